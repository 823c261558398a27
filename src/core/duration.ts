import { FluxError } from './errors.js';

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `2m`, `500ms`, `1h`, `7d`, or a whole number of ms; `field` names it in the refusal. */
export function parseDuration(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(v) : null;
  if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a duration such as 30s, 2m, 500ms or 1d; got ${JSON.stringify(v)}`, { field });
  return Number(m[1]) * UNITS[(m[2] ?? 'ms') as keyof typeof UNITS];
}
