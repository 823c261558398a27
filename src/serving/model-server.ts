import { FluxError } from '../core/index.js';
import type { Logger } from '../logging/index.js';
import { createPredictor, loadModel, type Predictor } from '../models/index.js';
import type { ModelVersion, RegistryService } from '../registry/index.js';
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

/**
 * Serves one model reference (`name@alias`, `name/version` or `name`). It follows the alias: a
 * poll (and an explicit `refresh()` when this process moves the alias) loads the new version
 * beside the old one and swaps the reference, so requests in flight finish on the version they
 * started with and new ones see the new version; nothing fails during the swap.
 */
export class ModelServer {
  private current: LoadedModel | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  readonly alias: string | null;

  constructor(
    private readonly registry: RegistryService,
    readonly ref: string,
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
  ) {
    this.alias = /@([^@/]+)$/.exec(ref)?.[1] ?? null;
  }

  get model(): LoadedModel | undefined {
    return this.current;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** Starts following the reference; resolves once the first load was attempted. */
  async start(pollMs = 2000): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-resolves the reference and swaps in the model when the version changed. Never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
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
