import type { Actor } from '../events/index.js';
import type { FilterClause, OrderClause } from '../search/index.js';
import type { CreateRunInput, DatasetInput, DatasetSummary, Experiment, Metric, Page, Run, RunInfo, UpdateRunInput, ViewType } from './types.js';

export interface SearchRunsQuery {
  experimentIds: string[];
  filter: FilterClause[];
  orderBy: OrderClause[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

export interface ExperimentSearchQuery {
  viewType: ViewType;
  maxResults: number;
  offset: number;
  nameLike?: string | undefined;
  filter?: FilterClause[] | undefined;
  /** Experiment id ascending is always the last key, so pages are stable. */
  orderBy?: OrderClause[] | undefined;
}

export interface KeyValue {
  key: string;
  value: string;
}

/**
 * The tracking store port. The Kysely implementation serves SQLite and Postgres; the HTTP client
 * implements the service above it. Inputs arrive validated by the service.
 */
export interface TrackingStore {
  createExperiment(input: { name: string; artifactLocation?: string | undefined; tags?: KeyValue[] }, actor: Actor): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment | undefined>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  searchExperiments(q: ExperimentSearchQuery): Promise<Page<Experiment>>;
  updateExperiment(experimentId: string, patch: { name?: string; lifecycleStage?: 'active' | 'deleted' }): Promise<void>;
  setExperimentTag(experimentId: string, tag: KeyValue): Promise<void>;

  createRun(input: Required<Omit<CreateRunInput, 'tags'>> & { runId: string; artifactUri: string; tags: KeyValue[] }, actor: Actor): Promise<void>;
  getRun(runId: string): Promise<Run | undefined>;
  /** The run row alone, for checks on the write path (no params, metrics or tags). */
  getRunInfo(runId: string): Promise<RunInfo | undefined>;
  updateRun(runId: string, patch: UpdateRunInput & { lifecycleStage?: 'active' | 'deleted'; deletedTime?: number | null }, actor: Actor): Promise<void>;
  /** Writes metrics, params and tags in one transaction; a param already logged with another value fails the whole batch. */
  logBatch(runId: string, batch: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] }): Promise<void>;
  /**
   * Replaces one run tag with `update(current)` atomically: concurrent updates of the tag, from
   * this server or another, are applied one after the other, none lost. `update` must be pure.
   */
  updateTag(runId: string, key: string, update: (current: string | undefined) => string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<boolean>;
  logInputs(runId: string, datasets: DatasetInput[]): Promise<void>;
  getMetricHistory(runId: string, key: string, offset: number, maxResults: number): Promise<Page<Metric>>;
  searchRuns(q: SearchRunsQuery): Promise<Page<Run>>;
  /** The distinct datasets (name, digest, context) the runs of these experiments used, at most `limit`. */
  searchDatasets(experimentIds: string[], limit: number): Promise<DatasetSummary[]>;
}
