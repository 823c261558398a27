import type { ModelVersion, RegisteredModel } from '../registry/index.js';
import { keyValues, type MlflowKeyValue } from './convert.js';
import { stringOf, type MlflowFields } from './mlflow-fields.js';

/**
 * Registry objects to MLflow's JSON, as its server writes them: snake_case, versions as strings,
 * times as numbers, fields in the protos' order, and unset ones left out as protobuf does — except
 * a version's `description` and `run_link`, which MLflow's server always writes (empty when unset).
 */
export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description: string;
  source: string;
  run_id?: string;
  status: string;
  status_message?: string;
  tags?: MlflowKeyValue[];
  run_link: string;
  aliases?: string[];
  model_id?: string;
}

export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions?: MlflowModelVersion[];
  tags?: MlflowKeyValue[];
  aliases?: Array<{ alias: string; version: string }>;
}

/**
 * A model version. MLflow's server lists a version's aliases when it returns one version (get,
 * get by alias, update, stage transition) but not in searches or a model's latest versions.
 */
export function modelVersionJson(v: ModelVersion, withAliases: boolean): MlflowModelVersion {
  const tags = keyValues(v.tags);
  return {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdatedTime,
    ...(v.userId !== '' ? { user_id: v.userId } : {}),
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    ...(v.runId !== '' ? { run_id: v.runId } : {}),
    status: v.status,
    ...(v.statusMessage !== '' ? { status_message: v.statusMessage } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    run_link: v.runLink,
    ...(withAliases && v.aliases.length > 0 ? { aliases: v.aliases } : {}),
    ...(v.modelId !== '' ? { model_id: v.modelId } : {}),
  };
}

export function registeredModelJson(m: RegisteredModel): MlflowRegisteredModel {
  const out: MlflowRegisteredModel = { name: m.name, creation_timestamp: m.creationTime, last_updated_timestamp: m.lastUpdatedTime };
  if (m.description !== '') out.description = m.description;
  if (m.latestVersions.length > 0) out.latest_versions = m.latestVersions.map((v) => modelVersionJson(v, false));
  const tags = keyValues(m.tags);
  if (tags.length > 0) out.tags = tags;
  if (m.aliases.length > 0) out.aliases = m.aliases;
  return out;
}

/** A repeated `{key, value}` message field (tags) as the services take it; a missing value is ''. */
export function tagList(f: MlflowFields, name: string): Array<{ key: string; value: string }> {
  return f.objectList(name).map((t, i) => ({
    key: stringOf(t.key, `${name}[${i}].key`, true)!,
    value: stringOf(t.value, `${name}[${i}].value`) ?? '',
  }));
}
