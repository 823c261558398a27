/** How the UI writes times, numbers and counts, the same on every page. */

/** A moment in the reader's locale; `none` for a missing one (empty by default). */
export const formatTime = (ms: number | null | undefined, none = '—'): string => (ms === null || ms === undefined ? none : new Date(ms).toLocaleString());

/** A number as a person reads it: integers whole, others to 4 significant digits; `none` for a missing one. */
export const formatNumber = (v: number | null | undefined, none = '—'): string =>
  v === null || v === undefined ? none : !Number.isFinite(v) ? String(v) : Number.isInteger(v) ? String(v) : v.toPrecision(4);

/** A duration: 850 ms, 12.5 s, 3 min 4 s, 2 h 5 min. */
export function formatDuration(ms: number | null | undefined, none = '—'): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return none;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A share as a percent: 0.0123 → 1.23 %. */
export const formatPercent = (share: number | null | undefined, none = '—'): string => (share === null || share === undefined || !Number.isFinite(share) ? none : `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%`);

/** "1 run", "3 runs". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
