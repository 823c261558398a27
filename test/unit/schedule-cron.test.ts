import { describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import { latestSlotBetween, MAX_SLOTS, nextSlot, parseCron, parseTimezone, slotsBetween } from '../../src/schedules/index.js';

const at = Date.parse;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function refusal(fn: () => unknown): FluxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FluxError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('cron slots (croner)', () => {
  it("'41 22 * * *' in UTC is 22:41:00Z every day, strictly after the given time", () => {
    expect(iso(nextSlot('41 22 * * *', 'UTC', at('2025-01-01T00:00:00Z')))).toBe('2025-01-01T22:41:00.000Z');
    expect(iso(nextSlot('41 22 * * *', 'UTC', at('2025-01-01T22:41:00Z')))).toBe('2025-01-02T22:41:00.000Z');
    expect(iso(nextSlot('41 22 * * *', 'UTC', at('2025-01-01T22:40:59.999Z')))).toBe('2025-01-01T22:41:00.000Z');
    expect(slotsBetween('41 22 * * *', 'UTC', at('2025-01-01T00:00:00Z'), at('2025-01-04T00:00:00Z')).map(iso)).toEqual([
      '2025-01-01T22:41:00.000Z',
      '2025-01-02T22:41:00.000Z',
      '2025-01-03T22:41:00.000Z',
    ]);
  });

  it('bounds the slots it lists, and finds the latest slot of a long span without walking all of it', () => {
    const year = slotsBetween('* * * * *', 'UTC', at('2025-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'));
    expect(year).toHaveLength(MAX_SLOTS);
    expect(slotsBetween('* * * * *', 'UTC', at('2025-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 3)).toHaveLength(3);
    const started = performance.now();
    expect(iso(latestSlotBetween('* * * * *', 'UTC', at('2024-01-01T00:00:00Z'), at('2025-06-01T12:34:56Z')))).toBe('2025-06-01T12:34:00.000Z');
    expect(iso(latestSlotBetween('0 0 29 2 *', 'UTC', at('2017-01-01T00:00:00Z'), at('2025-06-01T00:00:00Z')))).toBe('2024-02-29T00:00:00.000Z');
    expect(latestSlotBetween('0 0 29 2 *', 'UTC', at('2024-03-01T00:00:00Z'), at('2025-06-01T00:00:00Z'))).toBeNull();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('keeps local wall-clock times across daylight saving in Europe/Berlin', () => {
    expect(slotsBetween('0 9 * * *', 'Europe/Berlin', at('2025-03-29T00:00:00Z'), at('2025-04-01T00:00:00Z')).map(iso)).toEqual([
      '2025-03-29T08:00:00.000Z',
      '2025-03-30T07:00:00.000Z',
      '2025-03-31T07:00:00.000Z',
    ]);
    // The hour that repeats in autumn fires once.
    expect(slotsBetween('30 2 * * *', 'Europe/Berlin', at('2025-10-25T12:00:00Z'), at('2025-10-27T00:00:00Z')).map(iso)).toEqual(['2025-10-26T01:30:00.000Z']);
  });

  it('normalises and refuses expressions and time zones with one sentence naming the field', () => {
    expect(parseCron('  41   22 * *  * ')).toBe('41 22 * * *');
    expect(parseCron('@daily')).toBe('@daily');
    expect(parseCron('0 12 * * MON-FRI')).toBe('0 12 * * MON-FRI');
    expect(parseTimezone(undefined)).toBe('UTC');
    expect(parseTimezone('utc')).toBe('UTC');
    expect(parseTimezone('America/New_York')).toBe('America/New_York');
    const e = refusal(() => parseCron('0 25 * * *'));
    expect(e.message).toBe("cron '0 25 * * *' is not a valid cron expression: Invalid value for hour: 25");
    expect(e.details).toEqual({ field: 'cron' });
    expect(refusal(() => parseTimezone('Europe/Atlantis')).details).toEqual({ field: 'timezone' });
    expect(refusal(() => parseTimezone('Europe/Atlantis')).message).toBe('timezone must be an IANA time zone such as UTC or Europe/Berlin; got "Europe/Atlantis"');
  });
});
