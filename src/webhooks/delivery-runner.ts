import type { WebhookSettings } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { AttemptOutcome, ClaimedDelivery, WebhookStore } from './webhook-store.js';
import { deliveryBody, deliveryHeaders, sendDelivery, type SendResult } from './webhook-sender.js';
import type { WebhookDelivery } from './types.js';

/** Room past the request timeout before a claimed attempt may be taken over by another sender. */
const LEASE_MARGIN_MS = 30_000;

/** The delay before attempt `attempt + 1`: base · 2^(attempt−1), capped, with ±20 % jitter so failed receivers are not hit in step. */
export function retryDelay(attempt: number, settings: Pick<WebhookSettings, 'retryBaseMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const exp = Math.min(settings.retryBaseMs * 2 ** Math.max(0, attempt - 1), settings.retryMaxMs);
  return Math.max(1, Math.round(exp * (0.8 + 0.4 * random())));
}

/**
 * Makes one attempt of a claimed delivery and records it: succeeded on a 2xx; otherwise pending
 * again after the backoff, or failed once its attempts are spent (with the reason). The outcome is
 * recorded only while this sender still holds the attempt's lease.
 */
export class DeliveryRunner {
  constructor(
    private readonly store: WebhookStore,
    private readonly settings: WebhookSettings,
    private readonly logger?: Pick<Logger, 'warn' | 'debug'>,
  ) {}

  /** How long a claim lasts: the whole request timeout and a margin. */
  leaseUntil(now: number): number {
    return now + this.settings.timeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * Sends the attempt; when `signal` aborts (the sender is stopping) before an answer, the attempt
   * is given back uncounted for a sender to make later. Returns the delivery as recorded, or
   * undefined when the lease was lost or the attempt given back.
   */
  async run(d: ClaimedDelivery, signal?: AbortSignal): Promise<WebhookDelivery | undefined> {
    const hook = await this.store.get(d.webhookId);
    let result: SendResult;
    // Taken over from a sender whose lease ran out on the last attempt allowed: that attempt was
    // made (its outcome never recorded), so no more is sent.
    const spent = d.attempts > d.maxAttempts;
    if (spent) result = { status: d.lastStatus, response: d.lastResponse, error: `the sender of attempt ${d.maxAttempts} stopped before recording its outcome`, durationMs: 0 };
    else if (hook === undefined) result = { status: null, response: null, error: 'the webhook was deleted', durationMs: 0 };
    else if (!hook.enabled && d.eventSeq !== null) result = { status: null, response: null, error: 'the webhook is disabled', durationMs: 0 };
    else {
      const body = deliveryBody(hook.format, d.id, d.event);
      result = await sendDelivery(hook.url, deliveryHeaders(hook.secret, d.id, d.event.type, body), body, this.settings.timeoutMs, signal);
      if (result.status === null && signal?.aborted === true) {
        await this.store.release(d.id, d.leaseOwner, d.attempts, Date.now()).catch(() => false);
        return undefined;
      }
    }
    const now = Date.now();
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const history = spent ? d.history : [...d.history, { attempt: d.attempts, at: now, status: result.status, error: result.error, durationMs: result.durationMs }];
    const final = spent || hook === undefined || (!hook.enabled && d.eventSeq !== null);
    const outcome: AttemptOutcome = ok
      ? { state: 'succeeded', nextAttemptAt: now, status: result.status, response: result.response, error: null, history, now }
      : d.attempts >= d.maxAttempts || final
        ? { state: 'failed', nextAttemptAt: now, status: result.status, response: result.response, error: final ? result.error : `gave up after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${result.error ?? 'no answer'}`, history, now }
        : { state: 'pending', nextAttemptAt: now + retryDelay(d.attempts, this.settings), status: result.status, response: result.response, error: result.error, history, now };
    const recorded = await this.store.record(d.id, d.leaseOwner, d.attempts, outcome);
    if (!recorded) {
      // The lease ran out and another sender took the delivery over (or it was deleted): its record stands.
      this.logger?.warn({ delivery: d.id, attempt: d.attempts }, 'webhook delivery attempt finished after its lease; not recorded');
      return undefined;
    }
    this.logger?.debug({ delivery: d.id, webhook: d.webhookId, attempt: d.attempts, status: result.status, state: outcome.state }, 'webhook delivery attempt');
    return {
      ...stripClaim(d),
      state: outcome.state,
      nextAttemptAt: outcome.nextAttemptAt,
      lastStatus: outcome.status,
      lastResponse: outcome.response,
      lastError: outcome.error,
      history,
      updatedAt: now,
      finishedAt: outcome.state === 'pending' ? null : now,
    };
  }
}

function stripClaim(d: ClaimedDelivery): WebhookDelivery {
  const { event: _event, leaseOwner: _owner, ...rest } = d;
  return rest;
}
