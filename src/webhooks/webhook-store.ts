import type { DeliveryAttempt, DeliveryState, EventBody, WebhookDelivery, WebhookRecord } from './types.js';

/** A delivery to insert: one event (or the test event) for one webhook. */
export interface NewDelivery {
  id: string;
  webhookId: string;
  eventSeq: number | null;
  event: EventBody;
  maxAttempts: number;
  now: number;
}

/** A delivery a sender holds the lease of, with the event its body is made from. */
export interface ClaimedDelivery extends WebhookDelivery {
  event: EventBody;
  leaseOwner: string;
}

/** What an attempt ends in: done (succeeded or failed for good), or pending again until `nextAttemptAt`. */
export interface AttemptOutcome {
  state: Exclude<DeliveryState, 'delivering'>;
  nextAttemptAt: number;
  status: number | null;
  response: string | null;
  error: string | null;
  history: DeliveryAttempt[];
  now: number;
}

/**
 * Port for webhooks and their deliveries. The delivery moves are conditional: a claim takes only a
 * due row (pending and due, or delivering with an expired lease) and gives it the caller's lease;
 * an outcome is recorded only by the holder of that lease for that attempt. Inserts of one event's
 * delivery by several servers leave one row.
 */
export interface WebhookStore {
  /** Refused with RESOURCE_ALREADY_EXISTS when the name is taken. */
  create(w: WebhookRecord): Promise<void>;
  get(id: string): Promise<WebhookRecord | undefined>;
  getByName(name: string): Promise<WebhookRecord | undefined>;
  list(): Promise<WebhookRecord[]>;
  /** The enabled webhooks: what the fan-out matches events against. */
  enabled(): Promise<WebhookRecord[]>;
  setEnabled(id: string, enabled: boolean, now: number): Promise<boolean>;
  /** Deletes the webhook and its deliveries; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** The newest event's seq (0 for none): a new webhook hears of the events after it. */
  latestEventSeq(): Promise<number>;

  /** Inserts deliveries, skipping those of an (event, webhook) that exists already; returns how many were new. */
  enqueue(rows: readonly NewDelivery[]): Promise<number>;
  /** Inserts a delivery already claimed by `owner` for its first attempt (a test sends at once). */
  insertClaimed(row: NewDelivery, owner: string, leaseUntil: number): Promise<ClaimedDelivery>;
  /** Claims up to `limit` due deliveries for `owner` until `leaseUntil`, counting an attempt on each. */
  claim(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome, if `owner` still holds the lease of that attempt. */
  record(id: string, owner: string, attempt: number, outcome: AttemptOutcome): Promise<boolean>;
  /** Gives an attempt back unsent (the sender is stopping): pending and due now, the attempt uncounted. */
  release(id: string, owner: string, attempt: number, now: number): Promise<boolean>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** A webhook's deliveries, newest first. */
  deliveries(webhookId: string, q: { limit: number; state?: DeliveryState | undefined }): Promise<WebhookDelivery[]>;
  /** The earliest time a pending delivery is due, if any. */
  nextDue(): Promise<number | undefined>;

  /** How far the fan-out has read the outbox, across servers (0 before the first). */
  cursor(): Promise<number>;
  /** Moves the fan-out cursor forward to `seq` (never back). */
  advanceCursor(seq: number): Promise<void>;
}
