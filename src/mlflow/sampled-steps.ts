/**
 * The steps MLflow's `metrics/get-history-bulk-interval` returns, so the UI's charts get the same
 * points from FluxOps as from MLflow: of the sorted distinct steps `all` (every run's), those in
 * [start, end]; when there are more than `max`, `max` evenly spaced ones plus the last in range.
 * MLflow's quirk is kept: a sample index is dropped when it reaches the number of steps in range
 * (counted from the range's first step), which only matters when the range starts past step 0.
 */
export function sampledSteps(start: number, end: number, max: number, all: readonly number[]): Set<number> {
  const from = lowerBound(all, start);
  const to = upperBound(all, end);
  const count = to - from;
  if (count <= max) return new Set(all.slice(from, to));
  const interval = count / max;
  const out = new Set<number>();
  for (let i = 0; i < max; i++) {
    const idx = from + Math.floor(i * interval);
    if (idx < count) out.add(all[idx]!);
  }
  out.add(all[to - 1]!);
  return out;
}

/** First index whose step is ≥ x. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose step is > x. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
