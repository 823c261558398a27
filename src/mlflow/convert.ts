import type { ArtifactEntry } from '../storage/artifacts/index.js';
import type { DatasetInput, Experiment, Metric, Run, RunInfo } from '../tracking/index.js';

/**
 * Domain objects to MLflow's JSON, as its server writes protobuf messages: snake_case names, ids
 * as strings, int64 times as JSON numbers, a double that is NaN or infinite as the strings "NaN",
 * "Infinity", "-Infinity", maps as `[{key, value}]` lists, and unset fields (an empty list, a run
 * that has not ended) left out rather than written empty. Field order follows the protos' so the
 * output reads like MLflow's.
 */
export interface MlflowKeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags?: MlflowKeyValue[];
}

export interface MlflowRunInfo {
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
  run_id: string;
}

export interface MlflowMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface MlflowDatasetInput {
  tags?: MlflowKeyValue[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
  inputs?: { dataset_inputs?: MlflowDatasetInput[] };
}

export interface MlflowFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** MLflow keeps a dataset's usage context (training, eval …) as this input tag. */
export { DATASET_CONTEXT_TAG } from '../tracking/index.js';

export function toMlflowDouble(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function keyValues(record: Record<string, string>): MlflowKeyValue[] {
  const out: MlflowKeyValue[] = [];
  for (const key in record) out.push({ key, value: record[key]! });
  return out;
}

export function experimentJson(e: Experiment): MlflowExperiment {
  const out: MlflowExperiment = {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
  };
  const tags = keyValues(e.tags);
  if (tags.length > 0) out.tags = tags;
  return out;
}

export function runInfoJson(i: RunInfo): MlflowRunInfo {
  return {
    run_uuid: i.runId,
    experiment_id: i.experimentId,
    run_name: i.runName,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    // Unset until the run ends: left out, as protobuf does, rather than written as null.
    ...(i.endTime !== null ? { end_time: i.endTime } : {}),
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
    run_id: i.runId,
  };
}

export function metricJson(m: Metric): MlflowMetric {
  return { key: m.key, value: toMlflowDouble(m.value), timestamp: m.timestamp, step: m.step };
}

export function datasetInputJson(d: DatasetInput): MlflowDatasetInput {
  const dataset: MlflowDatasetInput['dataset'] = { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source };
  if (d.schema !== '') dataset.schema = d.schema;
  if (d.profile !== '') dataset.profile = d.profile;
  return d.tags.length > 0 ? { tags: d.tags.map((t) => ({ key: t.key, value: t.value })), dataset } : { dataset };
}

/**
 * A run as MLflow writes it. `withInputs` adds the `inputs` message, which MLflow's server sets on
 * runs it reads back (get, search) but not on the run `create` returns.
 */
export function runJson(r: Run, withInputs: boolean): MlflowRun {
  const data: MlflowRun['data'] = {};
  if (r.data.metrics.length > 0) data.metrics = r.data.metrics.map(metricJson);
  const params = keyValues(r.data.params);
  if (params.length > 0) data.params = params;
  const tags = keyValues(r.data.tags);
  if (tags.length > 0) data.tags = tags;
  const out: MlflowRun = { info: runInfoJson(r.info), data };
  if (withInputs) out.inputs = r.inputs.length > 0 ? { dataset_inputs: r.inputs.map(datasetInputJson) } : {};
  return out;
}

/** Artifact entries in code-point order of their paths, the order MLflow's listings come in. */
export function byPath<T extends { path: string }>(entries: T[]): T[] {
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** An artifact listing entry; `base` is the folder the path is made relative to. */
export function fileInfoJson(e: ArtifactEntry, base: string): MlflowFileInfo {
  const path = base === '' ? e.path : e.path.startsWith(`${base}/`) ? e.path.slice(base.length + 1) : e.path;
  return e.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: e.size ?? 0 };
}
