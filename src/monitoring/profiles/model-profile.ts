import { FluxError } from '../../core/index.js';
import { parseColumnProfile, profileCategorical, profileNumeric, type CategoricalProfile, type ColumnProfile, type NumericProfile } from '../column-profile.js';

/** The file of a model folder that holds the profile computed at training. */
export const PROFILE_FILE = 'profile.json';

/** Held-out scores and labels kept for performance estimation (CBPE): at most this many rows. */
export const MAX_PERFORMANCE_ROWS = 5000;

/**
 * What drift and performance estimation keep of a model version's data: a profile per input
 * column (quantiles and histogram, or category frequencies, with the missing count), the
 * distribution of its predictions, and for a binary classifier the scores and true labels of
 * held-out rows, from which CBPE is fitted (and calibrated) when a monitor first needs it.
 */
export interface ModelProfile {
  formatVersion: 1;
  /** `training` (computed by the trainer), or `dataset:<name>` (from a dataset a user named). */
  source: string;
  createdAt: string;
  /** Rows the input profiles were computed from. */
  rows: number;
  features: Record<string, ColumnProfile>;
  predictions: {
    /** Predicted labels (classifiers) as categories. */
    class?: CategoricalProfile | undefined;
    /** A binary classifier's probability of its second class, or a regressor's value. */
    score?: NumericProfile | undefined;
  };
  performance?: ReferencePerformance | undefined;
}

export interface ReferencePerformance {
  /** The two classes, in probability order; a score is the probability of the second. */
  classes: [number | string, number | string];
  threshold: number;
  scores: number[];
  /** 1 when the row's true class is the second, else 0. */
  labels: Array<0 | 1>;
}

export interface ProfileInput {
  source: string;
  /** Input column → its values on the profiled rows. */
  columns: Record<string, ArrayLike<number> | ArrayLike<string>>;
  rows: number;
  /** Predicted labels on rows like the live ones (held-out rows at training). */
  predictedLabels?: ArrayLike<number | string> | undefined;
  /** A binary classifier's scores of those rows, or a regressor's predictions. */
  scores?: ArrayLike<number> | undefined;
  performance?: ReferencePerformance | undefined;
  now?: Date | undefined;
}

export function buildModelProfile(input: ProfileInput): ModelProfile {
  const features: Record<string, ColumnProfile> = {};
  for (const [name, values] of Object.entries(input.columns)) {
    const numeric = values instanceof Float64Array || Array.from(values as ArrayLike<unknown>).every((v) => typeof v === 'number' || v === null || v === undefined);
    features[name] = numeric ? profileNumeric(values as ArrayLike<number>, `columns.${name}`) : profileCategorical(values as ArrayLike<string>, `columns.${name}`);
  }
  const labels = input.predictedLabels;
  const perf = input.performance;
  return {
    formatVersion: 1,
    source: input.source,
    createdAt: (input.now ?? new Date()).toISOString(),
    rows: input.rows,
    features,
    predictions: {
      ...(labels !== undefined && labels.length > 0 ? { class: profileCategorical(Array.from(labels, (l) => String(l)), 'predictions') } : {}),
      ...(input.scores !== undefined && input.scores.length > 0 ? { score: profileNumeric(input.scores, 'scores') } : {}),
    },
    ...(perf !== undefined && perf.scores.length > 0
      ? { performance: { ...perf, scores: perf.scores.slice(0, MAX_PERFORMANCE_ROWS).map(round6), labels: perf.labels.slice(0, MAX_PERFORMANCE_ROWS) } }
      : {}),
  };
}

/** A stored profile read back, every part checked (a damaged file is refused by name). */
export function parseModelProfile(value: unknown, field = 'profile'): ModelProfile {
  const bad = (what: string): FluxError => new FluxError('INVALID_PARAMETER_VALUE', `${field} is not a FluxOps model profile: ${what}`, { field });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected an object');
  const o = value as Record<string, unknown>;
  if (o.formatVersion !== 1) throw bad(`formatVersion must be 1, got ${JSON.stringify(o.formatVersion)}`);
  if (typeof o.source !== 'string' || typeof o.createdAt !== 'string' || typeof o.rows !== 'number') throw bad('source, createdAt and rows are required');
  if (typeof o.features !== 'object' || o.features === null) throw bad('features must be an object of column profiles');
  const features: Record<string, ColumnProfile> = {};
  for (const [k, v] of Object.entries(o.features as Record<string, unknown>)) features[k] = parseColumnProfile(v, `${field}.features.${k}`);
  const p = (o.predictions ?? {}) as Record<string, unknown>;
  const cls = p.class === undefined ? undefined : parseColumnProfile(p.class, `${field}.predictions.class`);
  const score = p.score === undefined ? undefined : parseColumnProfile(p.score, `${field}.predictions.score`);
  if (cls !== undefined && cls.kind !== 'categorical') throw bad('predictions.class must be a categorical profile');
  if (score !== undefined && score.kind !== 'numeric') throw bad('predictions.score must be a numeric profile');
  let performance: ReferencePerformance | undefined;
  if (o.performance !== undefined) {
    const r = o.performance as Record<string, unknown>;
    const scores = r.scores;
    const labels = r.labels;
    if (!Array.isArray(r.classes) || r.classes.length !== 2 || typeof r.threshold !== 'number' || !Array.isArray(scores) || !Array.isArray(labels) || scores.length !== labels.length) {
      throw bad('performance must hold two classes, a threshold, and as many scores as labels');
    }
    if (!scores.every((s) => typeof s === 'number' && s >= 0 && s <= 1) || !labels.every((l) => l === 0 || l === 1)) throw bad('performance scores must be in [0, 1] and labels 0 or 1');
    performance = { classes: r.classes as [number | string, number | string], threshold: r.threshold, scores: scores as number[], labels: labels as Array<0 | 1> };
  }
  return { formatVersion: 1, source: o.source, createdAt: o.createdAt, rows: o.rows, features, predictions: { ...(cls ? { class: cls } : {}), ...(score ? { score } : {}) }, ...(performance ? { performance } : {}) };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
