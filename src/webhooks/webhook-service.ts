import { randomBytes } from 'node:crypto';
import { FluxError, type WebhookSettings } from '../core/index.js';
import { actorOf, type WriteContext } from '../events/index.js';
import { DeliveryRunner } from './delivery-runner.js';
import { newDeliveryId } from './webhook-deliverer.js';
import type { WebhookStore } from './webhook-store.js';
import {
  DELIVERY_STATES,
  TEST_EVENT_TYPE,
  WEBHOOK_ID,
  eventPatterns,
  webhookFilter,
  webhookFormat,
  webhookName,
  webhookSecret,
  webhookUrl,
  type DeliveryState,
  type EventBody,
  type Webhook,
  type WebhookDelivery,
  type WebhookRecord,
} from './types.js';

export interface CreateWebhookInput {
  name: unknown;
  url: unknown;
  /** Patterns of event types: a list, or one comma-separated string. */
  events: unknown;
  format?: unknown;
  /** The signing secret; generated (and returned once) when absent. */
  secret?: unknown;
  filter?: unknown;
  enabled?: unknown;
}

export interface DeliveriesQuery {
  limit?: unknown;
  state?: unknown;
}

/**
 * Webhooks: subscriptions of an URL to event types, with validation, and the record of their
 * deliveries. The secret is returned once, by create; it signs every delivery
 * (see `signature.ts`). Deliveries are made by the `WebhookDeliverer` of each running server;
 * `testWebhook` sends one synthetic event at once and answers with how it went.
 */
export class WebhookService {
  private readonly runner: DeliveryRunner;

  constructor(
    private readonly store: WebhookStore,
    settings: WebhookSettings,
  ) {
    this.runner = new DeliveryRunner(store, settings);
  }

  async createWebhook(input: CreateWebhookInput, ctx?: WriteContext): Promise<{ webhook: Webhook; secret: string }> {
    if (typeof input !== 'object' || input === null) throw new FluxError('INVALID_PARAMETER_VALUE', 'a webhook needs a name, a url and events');
    const name = webhookName(input.name);
    const url = webhookUrl(input.url);
    const events = eventPatterns(input.events);
    const format = webhookFormat(input.format);
    const filter = webhookFilter(input.filter);
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new FluxError('INVALID_PARAMETER_VALUE', 'enabled must be true or false', { field: 'enabled' });
    const secret = webhookSecret(input.secret) ?? `whsec_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const record: WebhookRecord = {
      id: `wh-${randomBytes(6).toString('hex')}`,
      name,
      url,
      events,
      filter,
      format,
      enabled: input.enabled ?? true,
      createdAt: now,
      createdBy: actorOf(ctx),
      updatedAt: now,
      secret,
      // It hears of the events after this one.
      createdSeq: await this.store.latestEventSeq(),
    };
    await this.store.create(record);
    return { webhook: toPublic(record), secret };
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.store.list()).map(toPublic);
  }

  /** By id (`wh-…`) or by name. */
  async getWebhook(idOrName: unknown): Promise<Webhook> {
    return toPublic(await this.find(idOrName));
  }

  async deleteWebhook(idOrName: unknown, _ctx?: WriteContext): Promise<void> {
    const w = await this.find(idOrName);
    if (!(await this.store.delete(w.id))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `webhook '${w.name}' does not exist`);
  }

  /** A disabled webhook gets no new deliveries, and its pending ones fail with that reason. */
  async setWebhookEnabled(idOrName: unknown, enabled: unknown, _ctx?: WriteContext): Promise<Webhook> {
    if (typeof enabled !== 'boolean') throw new FluxError('INVALID_PARAMETER_VALUE', 'enabled must be true or false', { field: 'enabled' });
    const w = await this.find(idOrName);
    if (!(await this.store.setEnabled(w.id, enabled, Date.now()))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `webhook '${w.name}' does not exist`);
    return this.getWebhook(w.id);
  }

  /**
   * Sends a synthetic `webhook.test` event to the webhook now, signed as every delivery is, once
   * (no retries), and answers with the delivery as recorded: its state, status and response.
   */
  async testWebhook(idOrName: unknown, ctx?: WriteContext): Promise<WebhookDelivery> {
    const w = await this.find(idOrName);
    const now = Date.now();
    const event: EventBody = {
      seq: null,
      type: TEST_EVENT_TYPE,
      time: now,
      model: null,
      run_id: null,
      experiment_id: null,
      endpoint: null,
      payload: { webhook: w.id, name: w.name, message: 'a test delivery from FluxOps' },
      actor: actorOf(ctx),
    };
    const owner = `test:${randomBytes(4).toString('hex')}`;
    const claimed = await this.store.insertClaimed({ id: newDeliveryId(), webhookId: w.id, eventSeq: null, event, maxAttempts: 1, now }, owner, this.runner.leaseUntil(now));
    const done = await this.runner.run(claimed);
    return done ?? (await this.store.getDelivery(claimed.id)) ?? claimed;
  }

  /** A webhook's deliveries, newest first (default 50, at most 1000), optionally of one state. */
  async webhookDeliveries(idOrName: unknown, q: DeliveriesQuery = {}): Promise<WebhookDelivery[]> {
    const w = await this.find(idOrName);
    const limit = q.limit ?? 50;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FluxError('INVALID_PARAMETER_VALUE', 'limit must be an integer from 1 to 1000', { field: 'limit' });
    let state: DeliveryState | undefined;
    if (q.state !== undefined) {
      state = DELIVERY_STATES.find((s) => s === q.state);
      if (state === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `state must be one of ${DELIVERY_STATES.join(', ')}; got ${JSON.stringify(q.state)}`, { field: 'state' });
    }
    return this.store.deliveries(w.id, { limit, state });
  }

  private async find(idOrName: unknown): Promise<WebhookRecord> {
    if (typeof idOrName !== 'string' || idOrName === '' || idOrName.length > 100) throw new FluxError('INVALID_PARAMETER_VALUE', 'a webhook is named by its id (wh-…) or its name', { field: 'id' });
    const w = WEBHOOK_ID.test(idOrName) ? await this.store.get(idOrName) : await this.store.getByName(idOrName);
    if (w === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `webhook '${idOrName}' does not exist`);
    return w;
  }
}

function toPublic(w: WebhookRecord): Webhook {
  const { secret: _secret, createdSeq: _seq, ...rest } = w;
  return rest;
}
