/*
 * The spans FluxOps emits and their attributes, in one place (as OpenTelemetry's semantic
 * conventions are one table). Custom attributes live under `fluxops.`; a name is never both an
 * attribute and a namespace. Loads nothing: the hot paths import these names with tracing off.
 */

/** One routed prediction request of an endpoint (EndpointRouter). */
export const PREDICT_SPAN = 'fluxops.predict';

export const PREDICT_ATTR = {
  endpoint: 'fluxops.endpoint.name',
  deployment: 'fluxops.deployment.name',
  model: 'fluxops.model.name',
  version: 'fluxops.model.version',
  /** Rows answered (absent when the request failed). */
  rows: 'fluxops.predict.rows',
  /** The HTTP status the request was answered with: 200, or the error's status. */
  status: 'fluxops.predict.status',
} as const;

/** One attempt at a pipeline step, on the server or worker that took its job (StepRunner). */
export const STEP_SPAN = 'fluxops.pipeline.step';

export const STEP_ATTR = {
  pipeline: 'fluxops.pipeline.name',
  runId: 'fluxops.pipeline.run.id',
  step: 'fluxops.pipeline.step.name',
  /** train, evaluate, …, or `run` for a command. */
  type: 'fluxops.pipeline.step.type',
  attempt: 'fluxops.pipeline.step.attempt',
  /** succeeded, failed, cached, ignored (the step had moved on), retrying (this attempt failed, another follows) or aborted (cancelled, or the lease was lost). */
  outcome: 'fluxops.pipeline.step.outcome',
} as const;
