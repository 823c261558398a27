import { Cron } from 'croner';
import { FluxError } from '../core/index.js';

/**
 * Cron expressions and time zones, through croner (which handles the calendar and daylight
 * saving: a local time that does not exist on the spring-forward day fires an hour later, one
 * that happens twice in autumn fires once). Five fields (minute hour day-of-month month
 * day-of-week, with croner's `L`, `W`, `#` and names) or a nickname (`@daily`, `@hourly` …);
 * croner's optional seconds field is refused, since slots are whole minutes.
 */

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MAX_CRON_LENGTH = 200;
/** Slots a call of `slotsBetween` returns at most, unless told otherwise. */
export const MAX_SLOTS = 1000;

const parsed = new Map<string, Cron>();

/** A croner pattern that never starts a timer (no function is given), cached: parsing is the cost. */
function cronOf(expr: string, timezone: string): Cron {
  const key = `${timezone} ${expr}`;
  let c = parsed.get(key);
  if (c === undefined) {
    c = new Cron(expr, { timezone, paused: true, legacyMode: true });
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(key, c);
  }
  return c;
}

/** A cron expression, normalised (single spaces), or a one-sentence refusal naming `cron`. */
export function parseCron(v: unknown, field = 'cron'): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a cron expression such as '41 22 * * *' (minute hour day-of-month month day-of-week); got ${JSON.stringify(v)}`, { field });
  }
  const expr = v.trim().replace(/\s+/g, ' ');
  if (expr.length > MAX_CRON_LENGTH) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be at most ${MAX_CRON_LENGTH} characters`, { field });
  const fields = expr.split(' ');
  if (expr.startsWith('@') ? !NICKNAMES.has(expr.toLowerCase()) : fields.length !== 5) {
    throw new FluxError(
      'INVALID_PARAMETER_VALUE',
      `${field} '${expr}' must have five fields (minute hour day-of-month month day-of-week, such as '41 22 * * *') or be one of ${[...NICKNAMES].join(', ')}`,
      { field },
    );
  }
  try {
    cronOf(expr, 'UTC');
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/^CronPattern:\s*/i, '').replace(/\.$/, '');
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${expr}' is not a valid cron expression: ${why}`, { field });
  }
  return expr;
}

/** An IANA time zone in its canonical spelling (`europe/berlin` → `Europe/Berlin`), or a refusal naming `timezone`. */
export function parseTimezone(v: unknown, field = 'timezone'): string {
  if (v === undefined || v === null || v === '') return 'UTC';
  const bad = () => new FluxError('INVALID_PARAMETER_VALUE', `${field} must be an IANA time zone such as UTC or Europe/Berlin; got ${JSON.stringify(typeof v === 'string' ? v.slice(0, 100) : v)}`, { field });
  // Offsets such as +02:00 are refused: they have no daylight saving, and a zone name says what is meant.
  if (typeof v !== 'string' || v.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v)) throw bad();
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    throw bad();
  }
}

/** The first slot strictly after `afterMs` (epoch ms), or null when the expression fires no more. */
export function nextSlot(cron: string, timezone: string, afterMs: number): number | null {
  return cronOf(cron, timezone).nextRun(new Date(afterMs))?.getTime() ?? null;
}

/** The slots in (fromMs, toMs], oldest first, at most `limit` of them (the first ones). */
export function slotsBetween(cron: string, timezone: string, fromMs: number, toMs: number, limit = MAX_SLOTS): number[] {
  const out: number[] = [];
  for (let at = fromMs; out.length < limit; ) {
    const next = nextSlot(cron, timezone, at);
    if (next === null || next > toMs) break;
    out.push(next);
    at = next;
  }
  return out;
}

/**
 * The latest slot in (fromMs, toMs], or null when there is none. Croner only steps forward, so
 * after a long downtime this looks at windows ending at `toMs` that double until one holds a slot:
 * the work is bounded by the slots of the last window, not by the length of the downtime.
 */
export function latestSlotBetween(cron: string, timezone: string, fromMs: number, toMs: number): number | null {
  for (let window = 60 * 60 * 1000; ; window *= 2) {
    const start = Math.max(fromMs, toMs - window);
    let latest: number | null = null;
    for (let at = start; ; ) {
      const next = nextSlot(cron, timezone, at);
      if (next === null || next > toMs) break;
      latest = next;
      at = next;
    }
    if (latest !== null || start === fromMs) return latest;
  }
}
