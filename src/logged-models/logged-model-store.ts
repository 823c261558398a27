import type { SearchClause, SearchOrder } from '../search/index.js';
import type { Page } from '../tracking/index.js';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus, NewLoggedModel } from './types.js';

export interface SearchLoggedModelsQuery {
  experimentIds: string[];
  filter: SearchClause[];
  /** Metric clauses and metric orders look only at points of these datasets, when any are named. */
  datasets: Array<{ name: string; digest?: string | undefined }>;
  orderBy: SearchOrder[];
  maxResults: number;
  offset: number;
}

/** The logged-model store port; the Kysely implementation serves SQLite and Postgres. Inputs arrive validated. */
export interface LoggedModelStore {
  create(input: NewLoggedModel): Promise<void>;
  /** Also returns deleted models (lifecycleStage says so). */
  get(modelId: string): Promise<LoggedModel | undefined>;
  update(modelId: string, patch: { status?: LoggedModelStatus; statusMessage?: string; lifecycleStage?: 'active' | 'deleted' }): Promise<void>;
  setTags(modelId: string, tags: Array<{ key: string; value: string }>): Promise<void>;
  deleteTag(modelId: string, key: string): Promise<boolean>;
  /** Params are immutable: the same value again is accepted, another one fails the whole call. */
  logParams(modelId: string, params: Array<{ key: string; value: string }>): Promise<void>;
  logMetrics(modelId: string, metrics: LoggedModelMetric[]): Promise<void>;
  /** Live models only; ties in the order fall back to the newest first, then the id. */
  search(q: SearchLoggedModelsQuery): Promise<Page<LoggedModel>>;
  /** The newest live model a run produced under a name. */
  findForRun(runId: string, name: string): Promise<LoggedModel | undefined>;
  /** Records that a run output models (at a step); a model output again keeps the new step. */
  logOutputs(runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void>;
  /** The models a run output, oldest output first. */
  outputsOf(runId: string): Promise<Array<{ modelId: string; step: number }>>;
}
