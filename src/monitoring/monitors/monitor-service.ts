import { FluxError, periodic, type Component } from '../../core/index.js';
import type { EndpointService } from '../../endpoints/index.js';
import { actorOf, type NewEvent, type WriteContext } from '../../events/index.js';
import type { Logger } from '../../logging/index.js';
import type { RegistryService } from '../../registry/index.js';
import type { InferenceService } from '../inferences/index.js';
import { parseTimeBound } from '../inferences/index.js';
import type { ModelProfile } from '../profiles/index.js';
import { MonitorCheck, type CheckOutcome } from './monitor-check.js';
import { monitorName, parseMonitor, type MonitorInput } from './monitor-spec.js';
import type { MonitorStore } from './monitor-store.js';
import { ProfileLookup } from './profile-lookup.js';
import type { Monitor, MonitorResult } from './types.js';

export interface MonitorServiceOptions {
  clock?: () => number;
}

/**
 * Drift monitors: their settings, checks on demand and on their schedule (one process takes each
 * scheduled check), and their results as a time series. Each result is written with a
 * `monitor.checked` event, and with `drift.detected` when the dataset or the predictions drifted,
 * so pipeline triggers and webhooks react to drift as to any other event.
 */
export class MonitorService {
  readonly profiles: ProfileLookup;
  private readonly check: MonitorCheck;
  private readonly now: () => number;

  constructor(
    private readonly store: MonitorStore,
    inferences: InferenceService,
    registry: RegistryService,
    private readonly endpoints: EndpointService,
    opts: MonitorServiceOptions = {},
  ) {
    this.profiles = new ProfileLookup(store, registry);
    this.check = new MonitorCheck(inferences, this.profiles);
    this.now = opts.clock ?? Date.now;
  }

  async create(input: MonitorInput, _ctx?: WriteContext): Promise<Monitor> {
    const m = parseMonitor(input);
    await this.endpoints.getEndpoint(m.endpoint);
    const now = this.now();
    await this.store.create(m, m.everyMs === null ? null : now + m.everyMs, now);
    return this.get(m.name);
  }

  async get(name: unknown): Promise<Monitor> {
    const n = monitorName(name);
    const m = await this.store.get(n);
    if (m === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `monitor '${n}' does not exist`);
    return m;
  }

  list(): Promise<Monitor[]> {
    return this.store.list();
  }

  async update(name: unknown, patch: Partial<Omit<MonitorInput, 'name'>>, _ctx?: WriteContext): Promise<Monitor> {
    const current = await this.get(name);
    const m = parseMonitor({ endpoint: undefined, ...patch, name: current.name }, current);
    if (m.endpoint !== current.endpoint) await this.endpoints.getEndpoint(m.endpoint);
    const now = this.now();
    const next = m.everyMs === null ? null : m.everyMs === current.everyMs && current.nextRunAt !== null ? current.nextRunAt : now + m.everyMs;
    await this.store.update(m, next, now);
    return this.get(m.name);
  }

  async delete(name: unknown, _ctx?: WriteContext): Promise<void> {
    const n = monitorName(name);
    if (!(await this.store.delete(n))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `monitor '${n}' does not exist`);
  }

  /** Checks the monitor now and records the result. */
  async run(name: unknown, ctx?: WriteContext): Promise<MonitorResult> {
    return this.runMonitor(await this.get(name), ctx);
  }

  async results(name: unknown, q: { limit?: unknown; before?: unknown; since?: unknown } = {}): Promise<MonitorResult[]> {
    const m = await this.get(name);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FluxError('INVALID_PARAMETER_VALUE', `limit must be a whole number from 1 to 1000, got ${JSON.stringify(q.limit)}`, { field: 'limit' });
    const before = q.before === undefined ? undefined : Number(q.before);
    if (before !== undefined && !(Number.isInteger(before) && before > 0)) throw new FluxError('INVALID_PARAMETER_VALUE', `before must be a result number, got ${JSON.stringify(q.before)}`, { field: 'before' });
    const since = q.since === undefined || q.since === '' ? undefined : parseTimeBound(q.since, 'since', this.now());
    return this.store.results(m.name, { limit, before, since });
  }

  /** The newest result of every monitor (what the metrics show). */
  latest(): Promise<MonitorResult[]> {
    return this.store.latestResults();
  }

  /** Stores a reference profile for a version (one computed from a dataset a user named). */
  putProfile(model: string, version: string, profile: ModelProfile): Promise<void> {
    return this.profiles.put(model, version, profile);
  }

  /** The component that runs scheduled checks: every `tickMs` (default 5 s) it claims the due monitors and checks them. */
  scheduler(log?: Pick<Logger, 'info' | 'warn'>, tickMs = 5000): Component {
    return periodic(
      'monitor-scheduler',
      tickMs,
      async (signal) => {
        for (const m of await this.store.claimDue(this.now())) {
          if (signal.aborted) return;
          const r = await this.runMonitor(m);
          if (r.status === 'drift') log?.warn({ monitor: m.name, endpoint: m.endpoint, driftShare: r.dataset?.driftedShare, columns: r.dataset?.driftedColumns }, 'drift detected');
        }
      },
      { onError: (e) => log?.warn({ err: (e as Error).message }, 'monitor checks failed') },
    );
  }

  private async runMonitor(m: Monitor, ctx?: WriteContext): Promise<MonitorResult> {
    let outcome: CheckOutcome;
    const now = this.now();
    try {
      outcome = await this.check.run(m, now);
    } catch (e) {
      // A check that fails is a point of the series too (why is in the message), not a lost run.
      outcome = {
        monitor: m.name,
        endpoint: m.endpoint,
        time: now,
        windowStart: now - m.windowMs,
        windowEnd: now,
        rows: 0,
        status: 'error',
        message: e instanceof Error ? e.message : String(e),
        reference: null,
        versions: {},
        columns: {},
        dataset: null,
        predictions: {},
        predictionDrift: false,
        performance: null,
      };
    }
    const seq = await this.store.addResult(outcome, (result) => eventsOf(outcome, result), actorOf(ctx));
    return { ...outcome, seq };
  }
}

function eventsOf(r: CheckOutcome, result: number): NewEvent[] {
  const events: NewEvent[] = [
    {
      type: 'monitor.checked',
      endpoint: r.endpoint,
      model: r.reference?.model,
      payload: { monitor: r.monitor, endpoint: r.endpoint, result, status: r.status, rows: r.rows, drift_share: r.dataset?.driftedShare ?? null, estimated_accuracy: r.performance?.estimated?.accuracy ?? null },
      actor: null,
    },
  ];
  if (r.status === 'drift') {
    events.push({
      type: 'drift.detected',
      endpoint: r.endpoint,
      model: r.reference?.model,
      payload: {
        monitor: r.monitor,
        endpoint: r.endpoint,
        result,
        model: r.reference?.model ?? null,
        version: r.reference?.version ?? null,
        dataset_drift: r.dataset?.drifted ?? false,
        prediction_drift: r.predictionDrift,
        drift_share: r.dataset?.driftedShare ?? 0,
        drifted_columns: r.dataset?.driftedColumns ?? [],
        rows: r.rows,
        window_start: r.windowStart,
        window_end: r.windowEnd,
      },
      actor: null,
    });
  }
  return events;
}
