import type { Actor } from '../events/index.js';
import type { Page } from '../tracking/index.js';
import type { SearchClause, SearchOrder } from '../search/index.js';
import type { ModelVersion, NewModelVersion, RegisteredModel, Stage } from './types.js';

/** The registry store port; the Kysely implementation serves SQLite and Postgres. */
export interface RegistryStore {
  createRegisteredModel(input: { name: string; description: string; tags: Array<{ key: string; value: string }> }, actor: Actor): Promise<void>;
  getRegisteredModel(name: string): Promise<RegisteredModel | undefined>;
  /** Filter clauses are ANDed; ties in the order fall back to name. */
  searchRegisteredModels(q: { filter: SearchClause[]; orderBy: SearchOrder[]; maxResults: number; offset: number }): Promise<Page<RegisteredModel>>;
  updateRegisteredModel(name: string, patch: { description?: string; newName?: string }): Promise<void>;
  deleteRegisteredModel(name: string, actor: Actor): Promise<void>;
  setRegisteredModelTag(name: string, key: string, value: string): Promise<void>;
  deleteRegisteredModelTag(name: string, key: string): Promise<boolean>;

  /** Allocates the next version number (1, 2, 3 … per model) atomically. */
  createModelVersion(input: NewModelVersion, actor: Actor): Promise<ModelVersion>;
  getModelVersion(name: string, version: number): Promise<ModelVersion | undefined>;
  /** Never returns deleted versions; ties in the order fall back to name, then newest version first. */
  searchModelVersions(q: { filter: SearchClause[]; orderBy: SearchOrder[]; maxResults: number; offset: number }): Promise<Page<ModelVersion>>;
  /** A stage change also touches the model's update time. */
  updateModelVersion(name: string, version: number, patch: { description?: string; stage?: Stage; archiveOthersIn?: Stage }): Promise<void>;
  deleteModelVersion(name: string, version: number, actor: Actor): Promise<void>;
  setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void>;
  deleteModelVersionTag(name: string, version: number, key: string): Promise<boolean>;

  setAlias(name: string, alias: string, version: number, actor: Actor): Promise<void>;
  deleteAlias(name: string, alias: string, actor: Actor): Promise<boolean>;
  getAlias(name: string, alias: string): Promise<number | undefined>;
}
