import { FluxError, periodic, type Component } from '../../core/index.js';
import { endpointName, deploymentName, DEFAULT_INFERENCE_LOG, type EndpointService } from '../../endpoints/index.js';
import type { Logger } from '../../logging/index.js';
import type { InferenceStore } from './inference-store.js';
import { parseLabels, parseLabelsCsv } from './labels.js';
import { parseTimeBound } from './time-bound.js';
import type { InferenceRecord } from './types.js';

export interface ListInferencesInput {
  endpoint: unknown;
  deployment?: unknown;
  since?: unknown;
  until?: unknown;
  /** Newest first, at most this many (default 100, at most 1,000). */
  limit?: unknown;
  /** The next page: records older than this seq. */
  before?: unknown;
}

export interface ExportInferencesInput {
  endpoint: unknown;
  deployment?: unknown;
  since?: unknown;
  until?: unknown;
}

const PAGE = 1000;

/**
 * The inference table as users see it: listing, export in time order, labels attached by request
 * id (JSON or CSV), and the retention that deletes what is older than each endpoint keeps.
 */
export class InferenceService {
  constructor(
    private readonly store: InferenceStore,
    private readonly endpoints: EndpointService,
  ) {}

  async list(input: ListInferencesInput): Promise<{ inferences: InferenceRecord[]; next: number | null }> {
    const endpoint = endpointName(input.endpoint, 'endpoint');
    const limit = input.limit === undefined ? 100 : intIn(input.limit, 'limit', 1, PAGE);
    const before = input.before === undefined ? undefined : intIn(input.before, 'before', 1, Number.MAX_SAFE_INTEGER);
    const rows = await this.store.list({ ...this.query(endpoint, input), limit, afterSeq: before, newestFirst: true });
    return { inferences: rows, next: rows.length === limit ? rows.at(-1)!.seq : null };
  }

  /** Every record of the window, oldest first, fetched a page at a time (memory stays bounded). */
  async *export(input: ExportInferencesInput): AsyncGenerator<InferenceRecord> {
    const endpoint = endpointName(input.endpoint, 'endpoint');
    const q = this.query(endpoint, input);
    let after: number | undefined;
    for (;;) {
      const rows = await this.store.list({ ...q, limit: PAGE, afterSeq: after });
      for (const r of rows) yield r;
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.seq;
    }
  }

  /** Records of a window for monitors: answered 2xx, the newest `max` of them, oldest first. */
  async window(endpoint: string, deployment: string | undefined, since: number, until: number, max: number): Promise<InferenceRecord[]> {
    return (await this.store.list({ endpoint, deployment, since, until, okOnly: true, limit: max, newestFirst: true })).reverse();
  }

  /** Attaches labels (`[{request_id, row?, label}]`, or CSV text) to logged requests of the endpoint. */
  async putLabels(endpoint: unknown, labels: unknown): Promise<{ written: number; matched: number }> {
    const e = endpointName(endpoint, 'endpoint');
    const parsed = typeof labels === 'string' ? parseLabelsCsv(labels) : parseLabels(labels);
    return this.store.putLabels(e, parsed, Date.now());
  }

  labelsOf(endpoint: string, requestIds: readonly string[]): Promise<Map<string, Map<number, number | string>>> {
    return this.store.labelsOf(endpoint, requestIds);
  }

  /** Deletes, for every endpoint that logged, what is older than it keeps; returns the records deleted. */
  async applyRetention(now = Date.now()): Promise<number> {
    const settings = new Map((await this.endpoints.listEndpoints()).map((e) => [e.name, e.inferenceLog]));
    let deleted = 0;
    for (const endpoint of await this.store.endpoints()) {
      const days = (settings.get(endpoint) ?? DEFAULT_INFERENCE_LOG).retentionDays;
      deleted += await this.store.deleteOlderThan(endpoint, now - days * 86_400_000);
    }
    return deleted;
  }

  /** A component applying retention every `everyMs` (default 10 minutes) and once at start. */
  retention(log?: Pick<Logger, 'info' | 'warn'>, everyMs = 600_000): Component {
    return periodic(
      'inference-retention',
      everyMs,
      async () => {
        const n = await this.applyRetention();
        if (n > 0) log?.info({ deleted: n }, 'inference log retention');
      },
      { firstMs: 1000, onError: (e) => log?.warn({ err: (e as Error).message }, 'inference log retention failed') },
    );
  }

  private query(endpoint: string, input: { deployment?: unknown; since?: unknown; until?: unknown }) {
    const now = Date.now();
    return {
      endpoint,
      deployment: input.deployment === undefined || input.deployment === '' ? undefined : deploymentName(input.deployment, 'deployment'),
      since: input.since === undefined || input.since === '' ? undefined : parseTimeBound(input.since, 'since', now),
      until: input.until === undefined || input.until === '' ? undefined : parseTimeBound(input.until, 'until', now),
    };
  }
}

function intIn(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, { field });
  return n;
}
