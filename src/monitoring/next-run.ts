/**
 * The next run of something due every `everyMs` on the grid of `previous`, after `now`: runs
 * missed while no process ran are skipped, not caught up one by one.
 */
export function nextRunAfter(previous: number, everyMs: number, now: number): number {
  return previous + Math.max(1, Math.ceil((now + 1 - previous) / everyMs)) * everyMs;
}
