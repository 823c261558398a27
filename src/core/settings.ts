import { FluxError } from './errors.js';

/**
 * Reads a whole-number setting (an environment variable or a URL parameter) strictly: digits
 * only, so `10ms`, `1e3` or ` 5` are refused with a sentence naming the setting rather than
 * read as something else.
 */
export function parseIntegerSetting(value: string, name: string, min: number, max: number): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${name} must be a whole number from ${min} to ${max}, not '${value.slice(0, 40)}'`, { setting: name });
  }
  return n;
}
