import { isEventType, type EventPayloads, type EventType } from '../events/index.js';
import { TEST_EVENT_TYPE, type EventBody } from './types.js';

/** A Slack incoming-webhook message: `text` is the notification (and the fallback), `blocks` the layout. */
export interface SlackMessage {
  text: string;
  blocks?: SlackBlock[];
}

export type SlackBlock = { type: 'section'; text: { type: 'mrkdwn'; text: string } } | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> };

type Typed = { [T in EventType]: { type: T; payload: EventPayloads[T] } }[EventType];

/** Slack's mrkdwn treats &, < and > as markup; names are escaped so they cannot make links or mentions. */
function esc(v: unknown): string {
  return String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const code = (v: unknown) => `\`${esc(v).replace(/`/g, "'")}\``;

function fmtValue(v: number | null): string {
  if (v === null) return 'none';
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** One readable sentence per event type. */
function sentence(e: Typed): string {
  switch (e.type) {
    case 'experiment.created':
      return `Experiment ${code(e.payload.name)} was created (id ${e.payload.experiment_id}).`;
    case 'run.created':
      return `Run ${code(e.payload.run_name || e.payload.run_id)} started in experiment ${e.payload.experiment_id}.`;
    case 'run.finished':
      return `Run ${code(e.payload.run_id)} ended ${e.payload.status}.`;
    case 'model.created':
      return `Model ${code(e.payload.model)} was registered.`;
    case 'model.deleted':
      return `Model ${code(e.payload.model)} was deleted.`;
    case 'model.version.created':
      return `Model ${code(e.payload.model)} has a new version ${e.payload.version}${e.payload.run_id ? ` from run ${code(e.payload.run_id)}` : ''}.`;
    case 'model.version.deleted':
      return `Version ${e.payload.version} of model ${code(e.payload.model)} was deleted.`;
    case 'model.alias.changed':
      if (e.payload.version === null) return `Alias ${code(`${e.payload.model}@${e.payload.alias}`)} was removed (it pointed at version ${e.payload.previous_version ?? '?'}).`;
      return e.payload.previous_version === null
        ? `Alias ${code(`${e.payload.model}@${e.payload.alias}`)} now points at version ${e.payload.version}.`
        : `Alias ${code(`${e.payload.model}@${e.payload.alias}`)} moved from version ${e.payload.previous_version} to ${e.payload.version}.`;
    case 'key.created':
      return `API key ${code(e.payload.name)} (${e.payload.role}) was created.`;
    case 'key.revoked':
      return `API key ${code(e.payload.name)} was revoked.`;
    case 'endpoint.created':
      return `Endpoint ${code(e.payload.endpoint)} was created (${esc(e.payload.environment)}).`;
    case 'endpoint.updated':
      return `Endpoint ${code(e.payload.endpoint)} was updated.`;
    case 'endpoint.deleted':
      return `Endpoint ${code(e.payload.endpoint)} was deleted.`;
    case 'deployment.created':
      return `Deployment ${code(e.payload.deployment)} of ${code(e.payload.model)} was added to endpoint ${code(e.payload.endpoint)}.`;
    case 'deployment.updated':
      return `Deployment ${code(e.payload.deployment)} on endpoint ${code(e.payload.endpoint)} now serves ${code(e.payload.model)} (was ${code(e.payload.previous_model)}).`;
    case 'deployment.deleted':
      return `Deployment ${code(e.payload.deployment)} was removed from endpoint ${code(e.payload.endpoint)}.`;
    case 'traffic.changed':
      return `Traffic on endpoint ${code(e.payload.endpoint)} is now ${weights(e.payload.traffic)} (was ${weights(e.payload.previous)}).`;
    case 'rollout.started':
      return `A ${esc(e.payload.strategy)} rollout ${code(e.payload.rollout)} of ${code(e.payload.target)} started on endpoint ${code(e.payload.endpoint)} (from ${code(e.payload.stable)}).`;
    case 'rollout.step':
      return e.payload.weight === null
        ? `Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} reached step ${e.payload.step + 1}: a pause, waiting for promote.`
        : `Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} moved to step ${e.payload.step + 1}: ${e.payload.weight} % of traffic on the new deployment.`;
    case 'rollout.paused':
      return `Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} is paused at step ${e.payload.step + 1}.`;
    case 'rollout.resumed':
      return `Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} resumed at step ${e.payload.step + 1}.`;
    case 'rollout.promoted':
      return `Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} was promoted past step ${e.payload.step + 1}.`;
    case 'rollout.rolled_back':
      return `:rotating_light: Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} was rolled back at step ${e.payload.step + 1}: ${esc(e.payload.reason)}${e.payload.gate !== null ? ` (gate ${code(e.payload.gate)} = ${fmtValue(e.payload.value)})` : ''}.`;
    case 'rollout.completed':
      return `:white_check_mark: Rollout ${code(e.payload.rollout)} on ${code(e.payload.endpoint)} completed: ${code(e.payload.target)} takes all traffic.`;
    case 'pipeline.run.started':
      return `Pipeline ${code(e.payload.pipeline)} started run ${code(e.payload.pipeline_run)} (${esc(e.payload.trigger)}).`;
    case 'pipeline.run.succeeded':
      return `:white_check_mark: Pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} succeeded.`;
    case 'pipeline.run.failed':
      return `:x: Pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} failed${e.payload.step !== null ? ` at step ${code(e.payload.step)}` : ''}: ${esc(e.payload.reason)}.`;
    case 'pipeline.run.cancelled':
      return `Pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} was cancelled.`;
    case 'approval.requested':
      return `:hourglass: Pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} waits for an approval at step ${code(e.payload.step)}${e.payload.expires_at !== null ? ` until ${new Date(e.payload.expires_at).toISOString()}` : ''}.`;
    case 'approval.granted':
      return `Step ${code(e.payload.step)} of pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} was approved${e.payload.by !== null ? ` by ${code(e.payload.by)}` : ''}${e.payload.reason ? `: ${esc(e.payload.reason)}` : ''}.`;
    case 'approval.rejected':
      return `Step ${code(e.payload.step)} of pipeline ${code(e.payload.pipeline)} run ${code(e.payload.pipeline_run)} was rejected${e.payload.by !== null ? ` by ${code(e.payload.by)}` : ''}${e.payload.reason ? `: ${esc(e.payload.reason)}` : ''}.`;
    case 'sweep.started':
      return `Sweep ${code(e.payload.sweep)} started: ${e.payload.max_trials} trials, ${esc(e.payload.sampler)} sampling (run ${code(e.payload.run_id)}).`;
    case 'sweep.trial.finished':
      return `Sweep ${code(e.payload.sweep)} trial ${e.payload.trial} ${esc(e.payload.status)}${e.payload.value !== null ? ` with ${fmtValue(e.payload.value)}` : ''}.`;
    case 'sweep.completed':
      return `Sweep ${code(e.payload.sweep)} ${esc(e.payload.status)}: best trial ${e.payload.best_trial ?? 'none'}${e.payload.best_value !== null ? ` with ${fmtValue(e.payload.best_value)}` : ''}.`;
    case 'schedule.fired':
      return e.payload.pipeline_run !== null
        ? `Schedule ${code(e.payload.schedule)} fired and started pipeline run ${code(e.payload.pipeline_run)}.`
        : `Schedule ${code(e.payload.schedule)} fired but was skipped: ${esc(e.payload.skipped ?? 'no reason given')}.`;
    case 'monitor.checked':
      return `Monitor ${code(e.payload.monitor)} checked ${code(e.payload.endpoint)}: ${esc(e.payload.status)} over ${e.payload.rows} rows${e.payload.drift_share !== null ? `, ${Math.round(e.payload.drift_share * 100)} % of columns drifted` : ''}.`;
    case 'drift.detected':
      return `:warning: Drift on ${code(e.payload.endpoint)} (monitor ${code(e.payload.monitor)}): ${e.payload.dataset_drift ? `dataset drifted, ${e.payload.drifted_columns.map(code).join(', ') || 'no column'}` : 'predictions drifted'}${e.payload.model !== null ? ` against ${code(`${e.payload.model}/${e.payload.version ?? '?'}`)}` : ''}.`;
    case 'alert.firing':
      return `:rotating_light: *FIRING* (${esc(e.payload.severity)}) ${code(e.payload.alert)}: ${esc(e.payload.summary)} (value ${fmtValue(e.payload.value)}, threshold ${fmtValue(e.payload.threshold)}).`;
    case 'alert.resolved':
      return `:white_check_mark: *RESOLVED* ${code(e.payload.alert)}: ${esc(e.payload.summary)} (value ${fmtValue(e.payload.value)}).`;
    default: {
      // A type added to the events after this list: still a sentence.
      const other = e as { type: string; payload: Record<string, unknown> };
      return generic(other.type, other.payload);
    }
  }
}

function weights(w: Record<string, number>): string {
  const parts = Object.entries(w).map(([k, v]) => `${esc(k)} ${v} %`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** Any other event: its type and its string and number fields. */
function generic(type: string, payload: Record<string, unknown>): string {
  const fields = Object.entries(payload)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .slice(0, 8)
    .map(([k, v]) => `${esc(k)}=${code(v)}`);
  return `FluxOps event ${code(type)}${fields.length > 0 ? `: ${fields.join(', ')}` : ''}.`;
}

/** The Slack message of an event (or of the test delivery): a sentence, and who did it, when, and its seq as context. */
export function slackMessage(e: EventBody): SlackMessage {
  let text: string;
  if (e.type === TEST_EVENT_TYPE) text = `:wave: A test delivery from FluxOps to webhook ${code(e.payload.name ?? e.payload.webhook ?? '')}: it works.`;
  else if (isEventType(e.type)) text = sentence({ type: e.type, payload: e.payload } as unknown as Typed);
  else text = generic(e.type, e.payload);
  const context = [`*${esc(e.type)}*`, new Date(e.time).toISOString(), ...(e.seq !== null ? [`seq ${e.seq}`] : []), ...(e.actor !== null ? [`by ${code(e.actor)}`] : [])].join(' · ');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}
