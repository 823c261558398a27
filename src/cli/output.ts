import Table from 'cli-table3';
import { FluxError, type ErrorCode } from '../core/index.js';

/** Exit codes, documented in the README: scripts can tell failures apart. */
export const EXIT = { ok: 0, failure: 1, invalid: 2, notFound: 3, unavailable: 4, unauthenticated: 5, notImproved: 6 } as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'RESOURCE_DOES_NOT_EXIST':
    case 'ENDPOINT_NOT_FOUND':
      return EXIT.notFound;
    case 'TEMPORARILY_UNAVAILABLE':
      return EXIT.unavailable;
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return EXIT.unauthenticated;
    case 'INTERNAL_ERROR':
    case 'NOT_IMPLEMENTED':
    case 'SCHEMA_TOO_NEW':
      return EXIT.failure;
    default:
      return EXIT.invalid;
  }
}

export interface OutputOptions {
  json?: boolean | undefined;
}

/** Prints a table for people, or the raw value as JSON with --json. */
export function printResult(opts: OutputOptions, value: unknown, table: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(value, null, 2)}\n` : `${table()}\n`);
}

export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  if (rows.length === 0) return '(none)';
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => String(c)));
  return t.toString();
}

export function renderKeyValues(pairs: Array<[string, unknown]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n');
}

export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** Reports an error as one sentence on stderr and returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof FluxError) {
    process.stderr.write(`error: ${e.message}\n`);
    return exitCodeFor(e.code);
  }
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.FLUXOPS_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT.failure;
}
