import { FluxError, SerialJob, type Component } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import type { DomainEvent, EventBus, EventType } from '../events/index.js';
import { loadPredictor, type Prediction, type Predictor } from '../models/index.js';
import { parseModelRefName, type ModelVersion, type RegistryService } from '../registry/index.js';
import { decodePredictBody } from './decode.js';
import { MicroBatcher, deadlineError, type BatchingSettings } from './batcher.js';

/** The model being served: one immutable snapshot, replaced whole on a hot swap. */
export interface LoadedModel {
  name: string;
  version: string;
  alias: string | null;
  features: readonly string[];
  predictor: Predictor;
  /** `fluxops` (built-in) or `onnx`. */
  flavor: 'fluxops' | 'onnx';
  info: ModelVersion;
  /** When the model was trained, when it says (built-in models and FluxOps' ONNX exports). */
  trainedAt: string | null;
  loadedAt: number;
}

/** A prediction answer: classes and probabilities for a classifier, numbers for a regressor. */
export interface PredictResult {
  model: string;
  version: string;
  /** Classifiers only: the class labels, in the order of each probabilities row. */
  classes?: Array<number | string>;
  /** One label (classifiers) or value (regressors) per input row. */
  predictions: Array<number | string>;
  /** Classifiers only: one row per input, columns in `classes` order. */
  probabilities?: number[][];
}

export interface ModelServerOptions {
  /** Re-resolves the reference this often, in ms, as a fallback to the events (default 2 s). */
  pollMs?: number | undefined;
  /** Domain events of the platform: a change to the served model re-resolves it at once. */
  events?: EventBus | undefined;
  /** After a hot swap, the replaced predictor is closed once its requests finish, or after this many ms (default 30 s). */
  retireGraceMs?: number | undefined;
  /** Adaptive micro-batching of concurrent requests (see MicroBatcher); off when null or absent. */
  batching?: BatchingSettings | null | undefined;
}

/** How long a request may wait for its answer unless it says (x-fluxops-timeout-ms), in ms. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** A loaded model and the requests it is answering; replaced whole on a hot swap. */
interface Slot {
  model: LoadedModel;
  /** Gathers concurrent requests into one predictor call, when the deployment batches. */
  batcher: MicroBatcher | undefined;
  inFlight: number;
  retired: boolean;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** The events that can change what a reference resolves to. */
const MODEL_EVENTS: EventType[] = ['model.alias.changed', 'model.version.created', 'model.version.deleted', 'model.deleted'];

/**
 * Serves one model reference (`name@alias`, `name/version` or `name`). It follows the alias: an
 * event about its model (from this process or, through the outbox, any replica) and a fallback
 * poll re-resolve it; a new version is loaded beside the old one and the reference swapped, so
 * requests in flight finish on the version they started with and new ones see the new version;
 * nothing fails during the swap. The replaced predictor is closed (an ONNX session's native
 * memory released) when its last request has finished, or after a grace period.
 */
export class ModelServer implements Component {
  readonly name = 'model-server';
  private current: Slot | undefined;
  private readonly retired = new Set<Slot>();
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly refresher = new SerialJob(() => this.doRefresh());
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
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
    return this.current?.model;
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
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refresher.idle();
    const slots = [...this.retired, ...(this.current ? [this.current] : [])];
    this.current = undefined;
    await Promise.all(slots.map((slot) => this.close(slot)));
  }

  /**
   * Re-resolves the reference and swaps in the model when the version changed. Never throws. A
   * call during a refresh runs one more after it: that one may have read the registry before the
   * change that prompted this call.
   */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  private async doRefresh(): Promise<void> {
    try {
      const mv = await this.registry.resolve(this.ref);
      const now = this.current?.model;
      if (now?.version === mv.version && now.name === mv.name) return;
      if (mv.storageLocation === '') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${mv.name} v${mv.version} is stored outside FluxOps and cannot be served`);
      const loaded = await loadPredictor(this.registry.artifactStore, mv.storageLocation);
      if (this.stopped) {
        await loaded.predictor.close?.();
        return;
      }
      const previous = this.current;
      this.current = {
        model: {
          name: mv.name,
          version: mv.version,
          alias: this.alias,
          features: loaded.predictor.inputNames,
          predictor: loaded.predictor,
          flavor: loaded.flavor,
          info: mv,
          trainedAt: loaded.trainedAt,
          loadedAt: Date.now(),
        },
        batcher: this.opts.batching ? new MicroBatcher(loaded.predictor, this.opts.batching) : undefined,
        inFlight: 0,
        retired: false,
        closed: false,
        timer: undefined,
      };
      if (previous !== undefined) this.retire(previous);
      this.lastError = undefined;
      this.log?.info({ model: mv.name, version: mv.version, flavor: loaded.flavor, previous: previous?.model.version }, previous ? 'model hot-swapped' : 'model loaded');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message !== this.lastError) this.log?.warn({ ref: this.ref, err: message }, 'model not loaded');
      this.lastError = message;
    }
  }

  /** A replaced model is closed when its last request in flight finishes, or after the grace period. */
  private retire(slot: Slot): void {
    slot.retired = true;
    this.retired.add(slot);
    if (slot.inFlight === 0) {
      void this.close(slot);
      return;
    }
    slot.timer = setTimeout(() => void this.close(slot), this.opts.retireGraceMs ?? 30_000);
    slot.timer.unref();
  }

  private async close(slot: Slot): Promise<void> {
    if (slot.closed) return;
    slot.closed = true;
    slot.batcher?.drain(`model ${slot.model.name} v${slot.model.version} was replaced; retry`);
    if (slot.timer) clearTimeout(slot.timer);
    this.retired.delete(slot);
    try {
      await slot.model.predictor.close?.();
    } catch (e) {
      this.log?.warn({ model: slot.model.name, version: slot.model.version, err: e instanceof Error ? e.message : String(e) }, 'closing a replaced model failed');
    }
  }

  /** The batcher of the model loaded now, when the deployment batches (tests and status read its counts). */
  get batcher(): MicroBatcher | undefined {
    return this.current?.batcher;
  }

  /**
   * Predicts for a request body on the model loaded now; the snapshot is taken once, so a swap
   * meanwhile changes nothing for this request. `deadline` (a performance.now() time; default
   * DEFAULT_DEADLINE_MS from now) bounds the wait of a batched or off-thread prediction: past it,
   * the answer is a 503.
   */
  async predict(body: unknown, deadline?: number): Promise<PredictResult> {
    return this.predictNow(body, deadline);
  }

  /**
   * `predict`, answered without a promise when the model computes on this thread and the
   * deployment does not batch (the built-in models): the serving hot path then takes no microtask.
   */
  predictNow(body: unknown, deadline?: number): PredictResult | Promise<PredictResult> {
    const slot = this.current;
    if (slot === undefined) throw new FluxError('TEMPORARILY_UNAVAILABLE', `model ${this.ref} is not loaded${this.lastError ? `: ${this.lastError}` : ''}`);
    const m = slot.model;
    const { X, rows } = decodePredictBody(body, m.features, m.predictor.inputCodec);
    if (slot.batcher === undefined && m.predictor.predictMatrixSync !== undefined) {
      // Nothing to wait for: the slot cannot be retired under this call.
      return resultOf(m, m.predictor.predictMatrixSync(X, rows), rows);
    }
    slot.inFlight++;
    const settle = (): void => {
      if (--slot.inFlight === 0 && slot.retired) void this.close(slot);
    };
    let out: Promise<Prediction>;
    try {
      if (slot.batcher !== undefined) out = slot.batcher.submit(X, rows, deadline ?? performance.now() + DEFAULT_DEADLINE_MS);
      else if (m.predictor.offThread === true) out = withDeadline(m.predictor.predictMatrix(X, rows), deadline ?? performance.now() + DEFAULT_DEADLINE_MS);
      else out = m.predictor.predictMatrix(X, rows);
    } catch (e) {
      settle();
      throw e;
    }
    return out.then(
      (p) => {
        settle();
        return resultOf(m, p, rows);
      },
      (e: unknown) => {
        settle();
        throw e;
      },
    );
  }
}

/** A prediction in the answer's shape: classes and probability rows, or a regressor's values. */
function resultOf(m: LoadedModel, out: Prediction, rows: number): PredictResult {
  if (m.predictor.kind === 'regressor') {
    return { model: m.name, version: m.version, predictions: Array.from(out.values!) };
  }
  const k = m.predictor.classes.length;
  const probs = out.probabilities!;
  const probabilities: number[][] = new Array<number[]>(rows);
  for (let i = 0; i < rows; i++) {
    const p = new Array<number>(k);
    for (let c = 0; c < k; c++) p[c] = probs[i * k + c]!;
    probabilities[i] = p;
  }
  return { model: m.name, version: m.version, classes: m.predictor.classes as Array<number | string>, predictions: out.labels!, probabilities };
}

/** The prediction, or a 503 once the deadline passes (the work goes on; its answer is dropped). */
function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(deadlineError(0, 0)), Math.max(0, deadline - performance.now()));
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
