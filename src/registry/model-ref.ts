import { FluxError } from '../core/index.js';
import type { Page } from '../tracking/index.js';
import type { ModelVersion } from './types.js';

/**
 * What resolving a reference needs; the registry service and the HTTP client both provide it.
 * This module loads nothing but core, so the SDK imports it directly (not through the registry's
 * index, which loads the store).
 */
export interface ModelRefResolver {
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  searchModelVersions(q: { name?: string | undefined; maxResults?: number | undefined }): Promise<Page<ModelVersion>>;
}

/**
 * Resolves a model reference: `name@alias`, `name/3`, `name:3`, or `name` (its newest version),
 * each optionally prefixed with `models:/`.
 */
export async function resolveModelRef(api: ModelRefResolver, ref: string): Promise<ModelVersion> {
  const r = ref.replace(/^models:\/+/, '');
  const at = /^(.+)@([^@/]+)$/.exec(r);
  if (at !== null) return api.getVersionByAlias(at[1]!, at[2]!);
  const ver = /^(.+?)[/:](\d+)$/.exec(r);
  if (ver !== null) return api.getModelVersion(ver[1]!, ver[2]!);
  const latest = (await api.searchModelVersions({ name: r, maxResults: 1 })).items[0];
  if (latest === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `model '${r}' has no versions (use name@alias or name/version)`);
  return latest;
}

/** The model name a reference names, without resolving it. */
export function parseModelRefName(ref: string): string {
  const r = ref.replace(/^models:\/+/, '');
  const at = /^(.+)@([^@/]+)$/.exec(r);
  if (at !== null) return at[1]!;
  const ver = /^(.+?)[/:](\d+)$/.exec(r);
  return ver !== null ? ver[1]! : r;
}
