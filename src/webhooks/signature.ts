import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * How deliveries are signed, so a receiver can tell a delivery came from FluxOps and was not
 * replayed: HMAC-SHA256, keyed with the webhook's secret, over `${timestamp}.${body}` (the
 * timestamp in unix seconds, the body as the exact bytes sent), in one header:
 *
 *   X-FluxOps-Signature: t=1718000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
 *
 * Signing the timestamp with the body lets a receiver refuse an old delivery captured and sent
 * again: `verifySignature` accepts a timestamp only within `toleranceSeconds` (5 minutes) of its
 * clock, either way. Each attempt is signed when it is sent, so a retry an hour later verifies.
 * The `v1` names the scheme; a receiver takes any `v1` that matches, so a future secret rotation
 * can send two. This module loads only node:crypto, so receivers (and docs/webhooks.md) can copy it.
 */

export const SIGNATURE_HEADER = 'X-FluxOps-Signature';
export const DELIVERY_HEADER = 'X-FluxOps-Delivery';
export const EVENT_HEADER = 'X-FluxOps-Event';
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The signature header's value for a body sent at `timestamp` (unix seconds; default now). */
export function signPayload(secret: string, body: string | Buffer, timestamp: number = Math.floor(Date.now() / 1000)): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be a whole number of unix seconds');
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** How far the signed time may be from now, either way, in seconds (default 300). */
  toleranceSeconds?: number | undefined;
  /** The receiver's clock in unix seconds (default now); tests pass their own. */
  now?: number | undefined;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Checks a delivery: the header's `t` is within the tolerance of now (no stale or future
 * timestamps: replays are refused) and one of its `v1` signatures is the HMAC of `${t}.${body}`,
 * compared in constant time. `body` must be the raw bytes received, before any JSON parsing.
 */
export function verifySignature(secret: string, header: string | string[] | undefined | null, body: string | Buffer, opts: VerifyOptions = {}): VerifyResult {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (typeof value !== 'string' || value === '') return { ok: false, reason: 'no signature header' };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,15}$/.test(v)) timestamp = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (timestamp === undefined) return { ok: false, reason: 'the signature header has no timestamp (t=…)' };
  if (signatures.length === 0) return { ok: false, reason: 'the signature header has no v1 signature' };
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > tolerance) {
    return { ok: false, reason: timestamp < now ? `the timestamp is ${now - timestamp} s old (more than ${tolerance} s): a replay?` : `the timestamp is ${timestamp - now} s in the future (more than ${tolerance} s)` };
  }
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  // Every candidate is compared (no early exit), each in constant time.
  let match = false;
  for (const s of signatures) match = timingSafeEqual(expected, Buffer.from(s, 'hex')) || match;
  return match ? { ok: true, timestamp } : { ok: false, reason: 'the signature does not match the body' };
}
