import { FluxError } from '../core/index.js';
import { PIN_HEADER, deadlineOf, type EndpointRouter, type RoutedResult } from './endpoint-router.js';
import type { LoadedModel, ModelServer, PredictResult } from './model-server.js';

/** Request headers as Node gives them. */
export type Headers = Record<string, string | string[] | undefined>;

/**
 * Something the prediction routes address: an endpoint (through its traffic split) or the model a
 * server was started with (`--model`). One shape for every protocol, so `/api/predict`,
 * `/invocations` and the Open Inference Protocol answer from the same predictor code.
 */
export interface Target {
  /** The endpoint's name, or the model's. */
  readonly name: string;
  /** The endpoint it routes through; undefined for a `--model` server's model. */
  readonly endpoint: string | undefined;
  /** The model reference of its main deployment (or `--model`'s). */
  readonly ref: string | undefined;
  /** The model answering most of its traffic now: whose signature and classes describe it. */
  readonly main: LoadedModel | undefined;
  /** The deployment `main` belongs to (endpoints only). */
  readonly mainDeployment: string | undefined;
  /** Every deployment taking traffic has its model loaded. */
  readonly ready: boolean;
  /** Why it is not ready, when it is not. */
  readonly error: string | undefined;
  /** The model versions it serves now. */
  readonly versions: string[];
  /** The input order positional data follows. */
  readonly features: readonly string[];
  readonly classes: ReadonlyArray<number | string> | undefined;
  /** `requestId`: what an endpoint logs the request under. */
  predict(body: unknown, headers: Headers, requestId?: string): Promise<PredictResult | RoutedResult>;
}

/** The endpoint as a target, or undefined when this server does not route it (yet). */
export function endpointTarget(router: EndpointRouter, name: string): Target | undefined {
  const s = router.find(name);
  if (s === undefined) return undefined;
  const main = s.main?.server.model;
  const taking = s.table.map((e) => e.deployment);
  const unloaded = taking.find((d) => d.server.model === undefined);
  return {
    name,
    endpoint: name,
    ref: s.main?.ref,
    main,
    mainDeployment: s.main?.name,
    ready: taking.length > 0 && unloaded === undefined,
    error:
      taking.length === 0
        ? `endpoint '${name}' has no deployment taking traffic`
        : unloaded !== undefined
          ? `deployment ${unloaded.name} (${unloaded.ref}) is not loaded${unloaded.server.error ? `: ${unloaded.server.error}` : ''}`
          : undefined,
    versions: [...new Set([...s.deployments.values()].flatMap((d) => (d.server.model ? [d.server.model.version] : [])))],
    features: main?.features ?? [],
    classes: main?.predictor.classes.length ? [...main.predictor.classes] : undefined,
    predict: (body, headers, requestId) => router.predict(name, body, headers, requestId),
  };
}

export function modelTarget(server: ModelServer): Target {
  const m = server.model;
  return {
    name: server.modelName,
    endpoint: undefined,
    ref: server.ref,
    main: m,
    mainDeployment: undefined,
    ready: m !== undefined,
    error: m === undefined ? (server.error ?? `model ${server.ref} is not loaded yet`) : undefined,
    versions: m ? [m.version] : [],
    features: m?.features ?? [],
    classes: m?.predictor.classes.length ? [...m.predictor.classes] : undefined,
    predict: (body, headers) => server.predict(body, deadlineOf(headers)),
  };
}

/**
 * What a server serves by default (`/api/predict`, `/api/model-info`, `/invocations`, `/ping`):
 * the endpoint it was started with (`--endpoint`), else its model (`--model`), else nothing.
 */
export class DefaultTarget {
  constructor(
    private readonly router: EndpointRouter,
    private readonly modelServer: ModelServer | undefined,
    readonly endpoint: string | undefined,
  ) {
    if (endpoint !== undefined && modelServer !== undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'a server serves either an endpoint or a model by default, not both (--endpoint or --model)');
  }

  get configured(): boolean {
    return this.endpoint !== undefined || this.modelServer !== undefined;
  }

  /** What `--endpoint` or `--model` named, for messages and health. */
  get ref(): string | undefined {
    return this.endpoint ?? this.modelServer?.ref;
  }

  /** The target now; undefined when none is configured, or the endpoint is not routed here. */
  current(): Target | undefined {
    if (this.endpoint !== undefined) return endpointTarget(this.router, this.endpoint);
    return this.modelServer === undefined ? undefined : modelTarget(this.modelServer);
  }

  /** The target now, or the error saying why there is none. */
  require(): Target {
    const t = this.current();
    if (t !== undefined) return t;
    throw this.missing();
  }

  /** What a predict call on it is checked against: the endpoint's policy, or the model's name. */
  resource(): { endpoint?: string; model?: string; models?: readonly string[]; roles?: readonly string[] | undefined } {
    if (this.endpoint !== undefined) return this.router.resourceOf(this.endpoint);
    return { model: this.modelServer?.modelName };
  }

  /**
   * Predicts on it without building a Target (the hot path of `/api/predict`): through the
   * endpoint's traffic split, or on the model.
   */
  predict(body: unknown, headers: Headers, requestId?: string): PredictResult | RoutedResult | Promise<PredictResult | RoutedResult> {
    if (this.endpoint !== undefined) return this.router.predictNow(this.endpoint, body, headers, requestId);
    if (this.modelServer !== undefined) return this.modelServer.predictNow(body, deadlineOf(headers));
    throw this.missing();
  }

  private missing(): FluxError {
    if (this.endpoint !== undefined) return new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${this.endpoint}' (this server's --endpoint) does not exist`);
    return new FluxError('RESOURCE_DOES_NOT_EXIST', 'this server serves no model by default (start it with --endpoint NAME or --model name@alias)');
  }
}

/** The pin header for a deployment, as the protocols pass it to a target. */
export function pinHeaders(deployment: string | undefined): Headers {
  return deployment === undefined ? {} : { [PIN_HEADER]: deployment };
}
