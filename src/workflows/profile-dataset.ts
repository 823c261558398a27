import { FluxError } from '../core/index.js';
import { loadPredictor } from '../models/index.js';
import { buildModelProfile, type ModelProfile } from '../monitoring/index.js';
import type { ModelVersion, RegistryService } from '../registry/index.js';
import { loadCsv } from '../training/index.js';

const CHUNK_ROWS = 10_000;

/**
 * A version's reference profile computed from a dataset the user names (for versions registered
 * through MLflow, or to re-base a version on other data): every input column the model reads
 * (every column but the target when FluxOps cannot load the model), the model's predictions on
 * the rows when it can, and with `target` the held-out scores and labels CBPE is fitted on.
 */
export async function profileFromCsv(registry: RegistryService, mv: ModelVersion, csvText: string, opts: { target?: string | undefined; source: string }): Promise<ModelProfile> {
  const ds = loadCsv(csvText, { source: opts.source });
  const col = (name: string): Float64Array | string[] => {
    const j = ds.columns.indexOf(name);
    if (j < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `the data has no column ${name} (its columns: ${ds.columns.join(', ')})`, { field: name });
    return ds.numeric[j] ?? ds.raw[j]!;
  };
  const target = opts.target === undefined || opts.target === '' ? undefined : opts.target;
  const y = target === undefined ? undefined : col(target);
  let predictor;
  try {
    predictor = mv.storageLocation === '' ? undefined : (await loadPredictor(registry.artifactStore, mv.storageLocation)).predictor;
  } catch {
    predictor = undefined;
  }
  const inputs = predictor?.inputNames ?? ds.columns.filter((c) => c !== target);
  const columns: Record<string, Float64Array | string[]> = {};
  for (const name of inputs) columns[name] = col(name);
  const source = `dataset:${opts.source}`;
  if (predictor === undefined) return buildModelProfile({ source, columns, rows: ds.rowCount });
  try {
    const n = ds.rowCount;
    const d = inputs.length;
    const labels: Array<number | string> = [];
    const scores: number[] = [];
    const binary = predictor.kind === 'classifier' && predictor.classes.length === 2;
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const m = Math.min(CHUNK_ROWS, n - start);
      const X = new Float64Array(m * d);
      for (let j = 0; j < d; j++) {
        const c = columns[inputs[j]!]!;
        if (!(c instanceof Float64Array)) throw new FluxError('INVALID_PARAMETER_VALUE', `column ${inputs[j]} must be numeric: the model reads it as a number`, { field: inputs[j] });
        for (let i = 0; i < m; i++) X[i * d + j] = c[start + i]!;
      }
      const p = await predictor.predictMatrix(X, m);
      if (p.labels !== undefined) labels.push(...p.labels);
      if (binary && p.probabilities !== undefined) for (let i = 0; i < m; i++) scores.push(p.probabilities[i * 2 + 1]!);
      else if (p.values !== undefined) scores.push(...p.values);
    }
    const classes = predictor.classes;
    const performance =
      binary && y !== undefined
        ? {
            classes: [classes[0]!, classes[1]!] as [number | string, number | string],
            threshold: 0.5,
            scores,
            labels: Array.from(y as ArrayLike<number | string>, (v) => (String(v) === String(classes[1]) ? 1 : 0)),
          }
        : undefined;
    return buildModelProfile({ source, columns, rows: n, predictedLabels: labels.length > 0 ? labels : undefined, scores, performance });
  } finally {
    await predictor.close?.();
  }
}
