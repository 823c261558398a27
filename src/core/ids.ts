import { randomUUID } from 'node:crypto';

/** A run id as MLflow makes them: 32 lowercase hex characters. */
export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

export const RUN_ID_PATTERN = /^[0-9a-f]{32}$/;
export const EXPERIMENT_ID_PATTERN = /^[0-9]{1,15}$/;

/** Opaque paging token holding an offset; MLflow's own tokens are offsets too. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string | undefined | null): number {
  if (token === undefined || token === null || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // fall through to the error below
  }
  return -1;
}
