/**
 * The domain events FluxOps records, each with its payload. Payload fields are snake_case, as
 * they are read by other programs (webhooks, `fluxops events tail --json`) in the API's style.
 */
export interface EventPayloads {
  'experiment.created': { experiment_id: string; name: string };
  'run.created': { run_id: string; experiment_id: string; run_name: string };
  /** The run's status moved to a terminal one. */
  'run.finished': { run_id: string; experiment_id: string; status: 'FINISHED' | 'FAILED' | 'KILLED'; previous_status: string; end_time: number | null };
  'model.created': { model: string };
  'model.deleted': { model: string };
  'model.version.created': { model: string; version: string; run_id: string; source: string };
  'model.version.deleted': { model: string; version: string };
  /** Set (version is the new one) or deleted (version null); previous is null for a new alias. */
  'model.alias.changed': { model: string; alias: string; version: string | null; previous_version: string | null };
  'key.created': { key_id: string; name: string; role: string };
  'key.revoked': { key_id: string; name: string };
  'endpoint.created': { endpoint: string; environment: string };
  /** Its environment, description, predict roles or sticky header changed. */
  'endpoint.updated': { endpoint: string };
  'endpoint.deleted': { endpoint: string };
  'deployment.created': { endpoint: string; deployment: string; model: string };
  /** Its model reference or batching changed. */
  'deployment.updated': { endpoint: string; deployment: string; model: string; previous_model: string };
  'deployment.deleted': { endpoint: string; deployment: string };
  /** The split or the mirror settings changed (both are given whole, before and after). */
  'traffic.changed': { endpoint: string; traffic: Record<string, number>; previous: Record<string, number>; mirror: Record<string, number>; previous_mirror: Record<string, number> };
  'rollout.started': { rollout: string; endpoint: string; stable: string; target: string; strategy: string };
  /** A step began: traffic moved to `weight` % on the target (null for a pause). */
  'rollout.step': { rollout: string; endpoint: string; step: number; weight: number | null };
  'rollout.paused': { rollout: string; endpoint: string; step: number };
  'rollout.resumed': { rollout: string; endpoint: string; step: number };
  /** An operator moved it past a pause or the rest of a step's bake. */
  'rollout.promoted': { rollout: string; endpoint: string; step: number };
  /** All traffic went back to stable: a gate failed (named, with its value), or an operator aborted or rolled back. */
  'rollout.rolled_back': { rollout: string; endpoint: string; step: number; reason: string; gate: string | null; value: number | null };
  'rollout.completed': { rollout: string; endpoint: string; target: string };
  /** A pipeline run was created (by a person, a schedule, an event trigger or a retry). */
  'pipeline.run.started': { pipeline_run: string; pipeline: string; trigger: string };
  'pipeline.run.succeeded': { pipeline_run: string; pipeline: string };
  /** A step failed for good (its retries spent), so the run ended; `step` names it. */
  'pipeline.run.failed': { pipeline_run: string; pipeline: string; step: string | null; reason: string };
  'pipeline.run.cancelled': { pipeline_run: string; pipeline: string };
  /** An approve step is waiting for an approver until `expires_at` (ms since the epoch, null for never). */
  'approval.requested': { pipeline_run: string; pipeline: string; step: string; expires_at: number | null };
  'approval.granted': { pipeline_run: string; pipeline: string; step: string; by: string | null; reason: string };
  /** Rejected by an approver (by is their key), or expired (by null, reason says so). */
  'approval.rejected': { pipeline_run: string; pipeline: string; step: string; by: string | null; reason: string };
  'sweep.started': { sweep: string; run_id: string; max_trials: number; sampler: string };
  /** A trial ended: completed (with its objective value), failed or pruned by early termination. */
  'sweep.trial.finished': { sweep: string; run_id: string; trial: number; status: string; value: number | null };
  'sweep.completed': { sweep: string; run_id: string; status: string; best_trial: number | null; best_value: number | null };
  /** A schedule's slot fired (once per slot across servers); run is the pipeline run it started, null when skipped. */
  'schedule.fired': { schedule: string; slot: number; pipeline_run: string | null; skipped: string | null };
  /** An alert went firing (a rule's condition held for its `for`, or an SLO window pair burns too fast); not emitted while silenced. */
  'alert.firing': { alert: string; rule: string; severity: string; value: number | null; threshold: number; summary: string; labels: Record<string, string>; starts_at: number };
  'alert.resolved': { alert: string; rule: string; severity: string; value: number | null; threshold: number; summary: string; labels: Record<string, string>; starts_at: number; ends_at: number };
  /** A monitor checked a window: its status (ok, drift, insufficient_data, no_reference, error) and figures. */
  'monitor.checked': { monitor: string; endpoint: string; result: number; status: string; rows: number; drift_share: number | null; estimated_accuracy: number | null };
  /** A monitor found the dataset drifted (share of drifted columns ≥ its driftShare) or the predictions drifted. */
  'drift.detected': {
    monitor: string;
    endpoint: string;
    result: number;
    model: string | null;
    version: string | null;
    dataset_drift: boolean;
    prediction_drift: boolean;
    drift_share: number;
    drifted_columns: string[];
    rows: number;
    window_start: number;
    window_end: number;
  };
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES: readonly EventType[] = [
  'experiment.created',
  'run.created',
  'run.finished',
  'model.created',
  'model.deleted',
  'model.version.created',
  'model.version.deleted',
  'model.alias.changed',
  'key.created',
  'key.revoked',
  'endpoint.created',
  'endpoint.updated',
  'endpoint.deleted',
  'deployment.created',
  'deployment.updated',
  'deployment.deleted',
  'traffic.changed',
  'rollout.started',
  'rollout.step',
  'rollout.paused',
  'rollout.resumed',
  'rollout.promoted',
  'rollout.rolled_back',
  'rollout.completed',
  'pipeline.run.started',
  'pipeline.run.succeeded',
  'pipeline.run.failed',
  'pipeline.run.cancelled',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'sweep.started',
  'sweep.trial.finished',
  'sweep.completed',
  'schedule.fired',
  'monitor.checked',
  'alert.firing',
  'alert.resolved',
  'drift.detected',
];

export function isEventType(s: string): s is EventType {
  return (EVENT_TYPES as readonly string[]).includes(s);
}

/** The subject columns of an event: what it is about, for filtering without the payload. */
export interface EventSubject {
  model?: string | undefined;
  runId?: string | undefined;
  experimentId?: string | undefined;
  endpoint?: string | undefined;
}

/** An event to append; the outbox gives it its sequence number and time. */
export type NewEvent = {
  [T in EventType]: { type: T; payload: EventPayloads[T]; actor: string | null } & EventSubject;
}[EventType];

/** A recorded event, as read from the outbox. */
export type DomainEvent = {
  [T in EventType]: {
    seq: number;
    type: T;
    time: number;
    model: string | null;
    runId: string | null;
    experimentId: string | null;
    endpoint: string | null;
    payload: EventPayloads[T];
    actor: string | null;
  };
}[EventType];
