import { FluxError } from '../core/index.js';
import { EVENT_TYPES, type DomainEvent } from '../events/index.js';

export const WEBHOOK_FORMATS = ['fluxops', 'slack'] as const;
/** `fluxops`: `{id, event}` JSON; `slack`: a Slack incoming-webhook message (`{text, blocks}`). */
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const DELIVERY_STATES = ['pending', 'delivering', 'succeeded', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** The type of the synthetic event `webhooks test` sends; never an outbox event. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Only events about this model and/or this endpoint (their subject columns); null: any. */
export interface WebhookFilter {
  model: string | null;
  endpoint: string | null;
}

/** A webhook as the API shows it: everything but its secret. */
export interface Webhook {
  id: string;
  name: string;
  url: string;
  /** Glob patterns of event types (`model.*`, `pipeline.run.failed`, `*`). */
  events: string[];
  filter: WebhookFilter;
  format: WebhookFormat;
  enabled: boolean;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
}

/** What the store keeps: the webhook, its signing secret, and the newest event when it was made. */
export interface WebhookRecord extends Webhook {
  secret: string;
  createdSeq: number;
}

/** One attempt of a delivery: the HTTP status, or the error when there was no answer. */
export interface DeliveryAttempt {
  attempt: number;
  at: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  /** The event's seq; null for a test delivery. */
  eventSeq: number | null;
  eventType: string;
  state: DeliveryState;
  attempts: number;
  maxAttempts: number;
  /** When the next attempt is due (pending), else when the last one was scheduled. */
  nextAttemptAt: number;
  lastStatus: number | null;
  /** The first KiB of the last response body. */
  lastResponse: string | null;
  lastError: string | null;
  history: DeliveryAttempt[];
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** The `event` of a delivery body: an outbox event in the API's JSON (snake_case), or the test event. */
export interface EventBody {
  seq: number | null;
  type: string;
  time: number;
  model: string | null;
  run_id: string | null;
  experiment_id: string | null;
  endpoint: string | null;
  payload: Record<string, unknown>;
  actor: string | null;
}

export function eventBody(e: DomainEvent): EventBody {
  return {
    seq: e.seq,
    type: e.type,
    time: e.time,
    model: e.model,
    run_id: e.runId,
    experiment_id: e.experimentId,
    endpoint: e.endpoint,
    payload: e.payload,
    actor: e.actor,
  };
}

// ---- validation ----

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const WEBHOOK_ID = /^wh-[0-9a-f]{12}$/;
export const DELIVERY_ID = /^whd-[0-9a-f]{16}$/;
const PATTERN = /^[a-z*][a-z_.*]{0,99}$/;
export const MAX_PATTERNS = 50;

export function webhookName(v: unknown): string {
  if (typeof v !== 'string' || !NAME.test(v)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `name must be 1 to 100 letters, digits, '.', '_' and '-', starting with a letter or digit (such as deploy-alerts); got ${JSON.stringify(v)}`, { field: 'name' });
  }
  return v;
}

/** An http(s) URL without a fragment; the scheme and host are what a sender needs. */
export function webhookUrl(v: unknown): string {
  if (typeof v !== 'string' || v.length > 2048) throw new FluxError('INVALID_PARAMETER_VALUE', 'url must be an http:// or https:// URL of at most 2048 characters', { field: 'url' });
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new FluxError('INVALID_PARAMETER_VALUE', `url must be an http:// or https:// URL; got ${JSON.stringify(v.slice(0, 200))}`, { field: 'url' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FluxError('INVALID_PARAMETER_VALUE', `url must be an http:// or https:// URL; got the scheme ${u.protocol.replace(/:$/, '')}`, { field: 'url' });
  }
  if (u.hostname === '') throw new FluxError('INVALID_PARAMETER_VALUE', 'url must name a host', { field: 'url' });
  // fetch refuses such URLs; a receiver authenticates deliveries by their signature instead.
  if (u.username !== '' || u.password !== '') throw new FluxError('INVALID_PARAMETER_VALUE', 'url must not hold a user name or password (deliveries are authenticated by their signature)', { field: 'url' });
  if (u.hash !== '') throw new FluxError('INVALID_PARAMETER_VALUE', 'url must not have a #fragment (it is never sent)', { field: 'url' });
  return u.toString();
}

/** `model.*` → /^model\..*$/: `*` stands for any run of characters, dots included. */
function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/\./g, '\\.')).join('.*')}$`);
}

const compiled = new Map<string, RegExp>();

/** Whether an event type matches one glob pattern. */
export function matchesPattern(pattern: string, type: string): boolean {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = patternRegex(pattern);
    if (compiled.size < 1000) compiled.set(pattern, re);
  }
  return re.test(type);
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matchesPattern(p, type));
}

/**
 * The event patterns: a list, or one comma-separated string (`model.*,pipeline.run.failed`). Each
 * must match at least one event type FluxOps records, so a typo is refused rather than silently
 * matching nothing.
 */
export function eventPatterns(v: unknown): string[] {
  const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
  if (items === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', "events must be a list of event type patterns such as ['model.*', 'pipeline.run.failed'] or '*'", { field: 'events' });
  const out: string[] = [];
  for (const raw of items) {
    if (typeof raw !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'events must be a list of strings', { field: 'events' });
    const p = raw.trim();
    if (p === '') continue;
    if (!PATTERN.test(p)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `events: '${p.slice(0, 100)}' is not an event type pattern (lower-case letters, '.', '_' and '*', such as model.* or pipeline.run.failed)`, { field: 'events' });
    }
    if (!EVENT_TYPES.some((t) => matchesPattern(p, t))) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `events: '${p}' matches no event type; known types: ${EVENT_TYPES.join(', ')}`, { field: 'events' });
    }
    if (!out.includes(p)) out.push(p);
  }
  if (out.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', "events must name at least one event type pattern (such as model.* or '*')", { field: 'events' });
  if (out.length > MAX_PATTERNS) throw new FluxError('INVALID_PARAMETER_VALUE', `events may hold at most ${MAX_PATTERNS} patterns`, { field: 'events' });
  return out;
}

export function webhookFormat(v: unknown): WebhookFormat {
  if (v === undefined || v === null) return 'fluxops';
  const f = WEBHOOK_FORMATS.find((x) => x === v);
  if (f === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `format must be fluxops or slack; got ${JSON.stringify(v)}`, { field: 'format' });
  return f;
}

/** A given secret (at least 16 characters, so it is not guessable from a few tries), or undefined for a generated one. */
export function webhookSecret(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < 16 || v.length > 256 || /\s/.test(v) || hasControl(v)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', 'secret must be 16 to 256 characters without spaces or control characters (leave it out to have one generated)', { field: 'secret' });
  }
  return v;
}

function hasControl(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) < 0x20 || v.charCodeAt(i) === 0x7f) return true;
  return false;
}

export function webhookFilter(v: unknown): WebhookFilter {
  if (v === undefined || v === null) return { model: null, endpoint: null };
  if (typeof v !== 'object' || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', 'filter must be an object such as {"model": "diabetes"}', { field: 'filter' });
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => k !== 'model' && k !== 'endpoint');
  if (unknown !== undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `filter.${unknown} is not a filter; filter on model and endpoint`, { field: `filter.${unknown}` });
  const one = (k: 'model' | 'endpoint'): string | null => {
    const x = o[k];
    if (x === undefined || x === null || x === '') return null;
    if (typeof x !== 'string' || x.length > 256 || hasControl(x)) throw new FluxError('INVALID_PARAMETER_VALUE', `filter.${k} must be a ${k} name`, { field: `filter.${k}` });
    return x;
  };
  return { model: one('model'), endpoint: one('endpoint') };
}

/** Whether a webhook wants an event: its type matches a pattern and its subjects pass the filter. */
export function wants(w: Pick<WebhookRecord, 'events' | 'filter' | 'createdSeq'>, e: DomainEvent): boolean {
  if (e.seq <= w.createdSeq) return false;
  if (!matchesAny(w.events, e.type)) return false;
  if (w.filter.model !== null && e.model !== w.filter.model) return false;
  if (w.filter.endpoint !== null && e.endpoint !== w.filter.endpoint) return false;
  return true;
}
