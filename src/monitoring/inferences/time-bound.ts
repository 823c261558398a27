import { FluxError, parseDuration } from '../../core/index.js';

/**
 * A time bound as people write it: an ISO 8601 time (`2026-12-01T10:00:00Z`), a number of ms
 * since the epoch, or a duration back from now (`15m`, `2h`, `7d`).
 */
export function parseTimeBound(v: unknown, field: string, now = Date.now()): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string' || v.trim() === '') throw bound(v, field);
  const s = v.trim();
  if (/^\d{11,}$/.test(s)) return Number(s);
  if (/^\d+\s*(ms|s|m|h|d)$/.test(s)) return now - parseDuration(s, field);
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(s);
    if (Number.isFinite(t)) return t;
  }
  throw bound(v, field);
}

function bound(v: unknown, field: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a time (2026-12-01T10:00:00Z, or ms since the epoch) or a duration back from now (15m, 2h, 7d); got ${JSON.stringify(v)}`, { field });
}
