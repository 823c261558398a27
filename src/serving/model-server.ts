import { FluxError, type Component } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { DomainEvent, EventBus, EventType } from '../events/index.js';
import { createPredictor, loadModel, type Predictor } from '../models/index.js';
import { parseModelRefName, type ModelVersion, type RegistryService } from '../registry/index.js';
import { decodePredictBody } from './decode.js';

/** The model being served: one immutable snapshot, replaced whole on a hot swap. */
export interface LoadedModel {
  name: string;
  version: string;
  alias: string | null;
  features: readonly string[];
  predictor: Predictor;
  info: ModelVersion;
  trainedAt: string;
  loadedAt: number;
}

export interface PredictResult {
  model: string;
  version: string;
  classes: Array<number | string>;
  predictions: Array<number | string>;
  probabilities: number[][];
}

export interface ModelServerOptions {
  /** Re-resolves the reference this often, in ms, as a fallback to the events (default 2 s). */
  pollMs?: number | undefined;
  /** Domain events of the platform: a change to the served model re-resolves it at once. */
  events?: EventBus | undefined;
}

/** The events that can change what a reference resolves to. */
const MODEL_EVENTS: EventType[] = ['model.alias.changed', 'model.version.created', 'model.version.deleted', 'model.deleted'];

/**
 * Serves one model reference (`name@alias`, `name/version` or `name`). It follows the alias: an
 * event about its model (from this process or, through the outbox, any replica) and a fallback
 * poll re-resolve it; a new version is loaded beside the old one and the reference swapped, so
 * requests in flight finish on the version they started with and new ones see the new version;
 * nothing fails during the swap.
 */
export class ModelServer implements Component {
  readonly name = 'model-server';
  private current: LoadedModel | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private unsubscribe: (() => void) | undefined;
  readonly alias: string | null;
  /** The registered model the reference names. */
  readonly modelName: string;

  constructor(
    private readonly registry: RegistryService,
    readonly ref: string,
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
    private readonly opts: ModelServerOptions = {},
  ) {
    this.alias = /@([^@/]+)$/.exec(ref)?.[1] ?? null;
    this.modelName = parseModelRefName(ref);
  }

  get model(): LoadedModel | undefined {
    return this.current;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** Starts following the reference; resolves once the first load was attempted. */
  async start(): Promise<void> {
    // Subscribed before the first resolve, so a change committed meanwhile is not missed.
    this.unsubscribe = this.opts.events?.subscribe(MODEL_EVENTS, (e) => {
      if (this.concerns(e)) void this.refresh();
    });
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  private concerns(e: DomainEvent): boolean {
    if (e.model !== this.modelName) return false;
    // Another alias of the same model moving changes nothing here.
    return !(e.type === 'model.alias.changed' && this.alias !== null && e.payload.alias !== this.alias);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.refreshing !== undefined) await this.refreshing;
  }

  /**
   * Re-resolves the reference and swaps in the model when the version changed. Never throws. A
   * call during a refresh runs one more after it: that one may have read the registry before the
   * change that prompted this call.
   */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.doRefresh();
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    try {
      const mv = await this.registry.resolve(this.ref);
      if (this.current?.version === mv.version && this.current.name === mv.name) return;
      if (mv.storageLocation === '') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${mv.name} v${mv.version} is stored outside FluxOps and cannot be served`);
      const model = await loadModel(this.registry.artifactStore, mv.storageLocation);
      const predictor = createPredictor(model);
      const previous = this.current?.version;
      this.current = {
        name: mv.name,
        version: mv.version,
        alias: this.alias,
        features: model.signature.inputs.map((i) => i.name),
        predictor,
        info: mv,
        trainedAt: model.trainedAt,
        loadedAt: Date.now(),
      };
      this.lastError = undefined;
      this.log?.info({ model: mv.name, version: mv.version, previous }, previous ? 'model hot-swapped' : 'model loaded');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message !== this.lastError) this.log?.warn({ ref: this.ref, err: message }, 'model not loaded');
      this.lastError = message;
    }
  }

  predict(body: unknown): PredictResult {
    const m = this.current;
    if (m === undefined) throw new FluxError('TEMPORARILY_UNAVAILABLE', `model ${this.ref} is not loaded${this.lastError ? `: ${this.lastError}` : ''}`);
    const { X, rows } = decodePredictBody(body, m.features);
    const out = m.predictor.predictMatrix(X, rows);
    const k = m.predictor.classes.length;
    const probabilities: number[][] = new Array<number[]>(rows);
    for (let i = 0; i < rows; i++) {
      const p = new Array<number>(k);
      for (let c = 0; c < k; c++) p[c] = out.probabilities[i * k + c]!;
      probabilities[i] = p;
    }
    return { model: m.name, version: m.version, classes: m.predictor.classes as Array<number | string>, predictions: out.labels, probabilities };
  }
}
