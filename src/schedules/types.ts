import { FluxError } from '../core/index.js';

/** What a slot does while the schedule's previous pipeline run is still going: skip it, or queue it (one at most). */
export const OVERLAP_POLICIES = ['skip', 'queue'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** After a downtime: fire no missed slot (`none`), or only the latest one (`latest`). */
export const CATCH_UP_POLICIES = ['none', 'latest'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/**
 * Where a firing is. `claimed`: this slot is to start and a server is starting it (a claim older
 * than the scheduler's claim timeout is taken over and started again, so a crash between the
 * claim and the start never loses the slot); `started`: its pipeline run is `pipelineRun`;
 * `skipped`: not started, `reason` says why; `queued`: waits for the previous run to end;
 * `failed`: the pipeline could not be started, `reason` says why.
 */
export const FIRING_STATES = ['claimed', 'started', 'skipped', 'queued', 'failed'] as const;
export type FiringState = (typeof FIRING_STATES)[number];

export type ScheduleParam = string | number | boolean;

export interface Schedule {
  /** `sc-` and 12 hex digits. */
  id: string;
  name: string;
  /** Five fields, or a nickname such as @daily. */
  cron: string;
  /** IANA name; UTC by default. */
  timezone: string;
  /** The name of the pipeline the spec declares. */
  pipeline: string;
  /** The pipeline file (YAML) as it was given, kept whole. */
  pipelineSpec: string;
  /** Parameters handed to each run. */
  params: Record<string, ScheduleParam>;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  paused: boolean;
  /** The next slot to fire (epoch ms), or null when the expression fires no more. */
  nextSlot: number | null;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
}

export interface Firing {
  scheduleId: string;
  /** The slot (epoch ms) this firing is for. */
  slot: number;
  state: FiringState;
  pipelineRun: string | null;
  reason: string | null;
  /** Starts taken over after a server stopped between claiming and recording (0 for most). */
  attempts: number;
  firedAt: number;
  /** The server that claimed (or last took over) the firing. */
  firedBy: string;
  updatedAt: number;
}

export interface CreateScheduleInput {
  name: unknown;
  cron: unknown;
  timezone?: unknown;
  /** The pipeline's name; optional when the spec declares it. */
  pipeline?: unknown;
  /** The pipeline file's text (YAML), kept whole. */
  pipelineSpec: unknown;
  params?: unknown;
  overlap?: unknown;
  catchUp?: unknown;
}

export const SCHEDULE_ID = /^sc-[0-9a-f]{12}$/;
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PARAM_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
/** The largest pipeline file a schedule keeps. */
export const MAX_SPEC_CHARS = 1024 * 1024;
const MAX_PARAMS = 100;
const MAX_PARAM_CHARS = 10_000;

const invalid = (field: string, message: string) => new FluxError('INVALID_PARAMETER_VALUE', message, { field });

export function scheduleName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !NAME.test(v) || SCHEDULE_ID.test(v)) {
    throw invalid(field, `${field} must be 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit (such as nightly-retrain), and not look like a schedule id; got ${JSON.stringify(v)}`);
  }
  return v;
}

export function pipelineName(v: unknown, field = 'pipeline'): string {
  if (typeof v !== 'string' || !PIPELINE_NAME.test(v)) {
    throw invalid(field, `${field} must name the pipeline: 1 to 128 letters, digits, '_', '.' and '-', starting with a letter or digit; got ${JSON.stringify(v)}`);
  }
  return v;
}

export function pipelineSpecText(v: unknown, field = 'pipelineSpec'): string {
  if (typeof v !== 'string' || v.trim() === '') throw invalid(field, `${field} must be the pipeline file's text (YAML)`);
  if (v.length > MAX_SPEC_CHARS) throw invalid(field, `${field} must be at most ${MAX_SPEC_CHARS} characters; it has ${v.length}`);
  return v;
}

export function overlapPolicy(v: unknown, field = 'overlap'): OverlapPolicy {
  if (v === undefined || v === null) return 'skip';
  const p = OVERLAP_POLICIES.find((x) => x === v);
  if (p === undefined) throw invalid(field, `${field} must be skip or queue (what a slot does while the previous run still goes); got ${JSON.stringify(v)}`);
  return p;
}

export function catchUpPolicy(v: unknown, field = 'catchUp'): CatchUpPolicy {
  if (v === undefined || v === null) return 'none';
  const p = CATCH_UP_POLICIES.find((x) => x === v);
  if (p === undefined) throw invalid(field, `${field} must be none or latest (which slots missed during a downtime fire); got ${JSON.stringify(v)}`);
  return p;
}

export function scheduleParams(v: unknown, field = 'params'): Record<string, ScheduleParam> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(field, `${field} must be an object of names to strings, numbers or booleans`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_PARAMS) throw invalid(field, `${field} may hold at most ${MAX_PARAMS} parameters; got ${entries.length}`);
  const out: Record<string, ScheduleParam> = {};
  for (const [k, x] of entries) {
    if (!PARAM_KEY.test(k)) throw invalid(field, `${field}: '${k.slice(0, 100)}' is not a parameter name (letters, digits, '_', '.', '-', starting with a letter or '_')`);
    if (typeof x === 'string') {
      if (x.length > MAX_PARAM_CHARS) throw invalid(field, `${field}.${k} must be at most ${MAX_PARAM_CHARS} characters`);
      out[k] = x;
    } else if (typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))) {
      out[k] = x;
    } else {
      throw invalid(field, `${field}.${k} must be a string, a finite number or a boolean; got ${JSON.stringify(x) ?? String(x)}`);
    }
  }
  return out;
}
