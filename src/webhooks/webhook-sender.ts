import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signPayload } from './signature.js';
import { slackMessage } from './slack-format.js';
import type { EventBody, WebhookFormat } from './types.js';

/** The most of a response body a delivery keeps. */
export const RESPONSE_EXCERPT_BYTES = 1024;
const USER_AGENT = 'FluxOps-Webhooks/0.1';

export interface SendResult {
  /** The HTTP status, or null when no answer came (refused, reset, timed out). */
  status: number | null;
  /** The first KiB of the response body (as UTF-8 text). */
  response: string | null;
  error: string | null;
  durationMs: number;
}

/** The exact body of a delivery: FluxOps' `{id, event}` or the Slack message. */
export function deliveryBody(format: WebhookFormat, deliveryId: string, event: EventBody): string {
  return format === 'slack' ? JSON.stringify(slackMessage(event)) : JSON.stringify({ id: deliveryId, event });
}

/** The headers of one attempt, signed now. */
export function deliveryHeaders(secret: string, deliveryId: string, eventType: string, body: string, now = Date.now()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    [SIGNATURE_HEADER]: signPayload(secret, body, Math.floor(now / 1000)),
    [DELIVERY_HEADER]: deliveryId,
    [EVENT_HEADER]: eventType,
  };
}

/**
 * POSTs a delivery and reads at most the first KiB of the answer. Redirects are not followed (a
 * 3xx is an answer, not a success: the body and signature are for the URL configured). Never
 * throws: what went wrong is the result's error.
 */
export async function sendDelivery(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal): Promise<SendResult> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal !== undefined ? AbortSignal.any([timeout, signal]) : timeout;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: combined });
    const response = await excerpt(res);
    return { status: res.status, response, error: res.ok ? null : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, durationMs: elapsed() };
  } catch (e) {
    const error = timeout.aborted ? `no answer within ${timeoutMs} ms` : signal?.aborted === true ? 'cancelled: the sender is stopping' : describeFetchError(e);
    return { status: null, response: null, error, durationMs: elapsed() };
  }
}

async function excerpt(res: Response): Promise<string | null> {
  if (res.body === null) return null;
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The answer's status is what counts; a body cut short keeps what arrived.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES);
  // A multi-byte character cut at the limit becomes U+FFFD; the excerpt is for people. NUL, which
  // a Postgres text column refuses, becomes U+FFFD too.
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/\0/g, '\uFFFD');
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is in its cause. */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return e.message;
}
