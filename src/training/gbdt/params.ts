import { invalid } from '../../core/index.js';
import { isNumericCell } from '../csv.js';
import type { RawTrainParams } from '../trainer.js';

/**
 * The hyperparameters of `--algo gbdt`, with scikit-learn's HistGradientBoosting names and
 * defaults; docs/training.md lists them and the sweep search space.
 */
export interface GbdtParams {
  loss: 'auto' | 'log_loss' | 'squared_error' | 'absolute_error';
  learningRate: number;
  maxIter: number;
  maxLeafNodes: number;
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2Regularization: number;
  maxBins: number;
  earlyStopping: 'auto' | boolean;
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  classWeight: 'none' | 'balanced';
  categorical: string[];
  /** Threads building histograms; 0 = as many as pay (up to the cores). */
  threads: number;
  testSize: number;
  seed: number;
}

type Spec =
  | { key: keyof GbdtParams; kind: 'number'; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean; def: number }
  | { key: keyof GbdtParams; kind: 'int'; min: number; max?: number; none?: boolean; auto?: boolean; def: number | null }
  | { key: keyof GbdtParams; kind: 'enum'; values: readonly string[]; def: string }
  | { key: keyof GbdtParams; kind: 'bool-auto'; def: 'auto' }
  | { key: keyof GbdtParams; kind: 'list'; def: string[] };

export const GBDT_PARAM_SPECS: Record<string, Spec> = {
  loss: { key: 'loss', kind: 'enum', values: ['auto', 'log_loss', 'squared_error', 'absolute_error'], def: 'auto' },
  learning_rate: { key: 'learningRate', kind: 'number', min: 0, minExclusive: true, def: 0.1 },
  max_iter: { key: 'maxIter', kind: 'int', min: 1, max: 100_000, def: 100 },
  max_leaf_nodes: { key: 'maxLeafNodes', kind: 'int', min: 2, max: 65_536, def: 31 },
  max_depth: { key: 'maxDepth', kind: 'int', min: 1, max: 64, none: true, def: null },
  min_samples_leaf: { key: 'minSamplesLeaf', kind: 'int', min: 1, def: 20 },
  l2_regularization: { key: 'l2Regularization', kind: 'number', min: 0, def: 0 },
  max_bins: { key: 'maxBins', kind: 'int', min: 2, max: 255, def: 255 },
  early_stopping: { key: 'earlyStopping', kind: 'bool-auto', def: 'auto' },
  validation_fraction: { key: 'validationFraction', kind: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, def: 0.1 },
  n_iter_no_change: { key: 'nIterNoChange', kind: 'int', min: 1, def: 10 },
  tol: { key: 'tol', kind: 'number', min: 0, def: 1e-7 },
  class_weight: { key: 'classWeight', kind: 'enum', values: ['none', 'balanced'], def: 'none' },
  categorical: { key: 'categorical', kind: 'list', def: [] },
  threads: { key: 'threads', kind: 'int', min: 1, max: 64, auto: true, def: 0 },
  test_size: { key: 'testSize', kind: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, def: 0.3 },
  seed: { key: 'seed', kind: 'int', min: 0, max: 0xffffffff, def: 42 },
};

export const GBDT_PARAM_NAMES = Object.keys(GBDT_PARAM_SPECS);

/** Parses `--param name=value` strings (or numbers from a sweep); every refusal names the parameter and what it accepts. */
export function parseGbdtParams(raw: RawTrainParams): GbdtParams {
  const out: Record<string, unknown> = {};
  for (const spec of Object.values(GBDT_PARAM_SPECS)) out[spec.key] = spec.def;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = GBDT_PARAM_SPECS[name];
    if (spec === undefined) throw invalid(`unknown parameter '${name}' for algo gbdt; accepted parameters: ${GBDT_PARAM_NAMES.join(', ')}`);
    const text = String(value).trim();
    out[spec.key] = parseOne(name, spec, text);
  }
  return out as unknown as GbdtParams;
}

function parseOne(name: string, spec: Spec, text: string): unknown {
  switch (spec.kind) {
    case 'enum':
      if (!spec.values.includes(text)) throw invalid(`parameter ${name} must be one of ${spec.values.join(', ')}, got '${text}'`);
      return text;
    case 'bool-auto':
      if (text === 'auto') return 'auto';
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw invalid(`parameter ${name} must be auto, true or false, got '${text}'`);
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'int': {
      if (spec.none === true && text === 'none') return null;
      if (spec.auto === true && text === 'auto') return 0;
      const v = numberOf(name, text);
      const range = `an integer from ${spec.min}${spec.max !== undefined ? ` to ${spec.max}` : ''}${spec.none ? ", or 'none'" : ''}${spec.auto ? ", or 'auto'" : ''}`;
      if (!Number.isInteger(v) || v < spec.min || (spec.max !== undefined && v > spec.max)) throw invalid(`parameter ${name} must be ${range}, got ${text}`);
      return v;
    }
    case 'number': {
      const v = numberOf(name, text);
      const lo = spec.min === undefined || (spec.minExclusive ? v > spec.min : v >= spec.min);
      const hi = spec.max === undefined || (spec.maxExclusive ? v < spec.max : v <= spec.max);
      if (!lo || !hi) {
        const parts = [spec.min !== undefined ? `${spec.minExclusive ? '>' : '≥'} ${spec.min}` : '', spec.max !== undefined ? `${spec.maxExclusive ? '<' : '≤'} ${spec.max}` : ''].filter((p) => p !== '');
        throw invalid(`parameter ${name} must be a number ${parts.join(' and ')}, got ${text}`);
      }
      return v;
    }
  }
}

function numberOf(name: string, text: string): number {
  if (!isNumericCell(text)) throw invalid(`parameter ${name} must be a number, got '${text}'`);
  const v = Number(text);
  if (!Number.isFinite(v)) throw invalid(`parameter ${name} must be a finite number, got '${text}'`);
  return v;
}

/** Every effective parameter as a string, ready to log with the run. */
export function formatGbdtParams(p: GbdtParams, resolved: { loss: string; earlyStopping: boolean; threads: number }): Record<string, string> {
  return {
    algo: 'gbdt',
    loss: resolved.loss,
    learning_rate: String(p.learningRate),
    max_iter: String(p.maxIter),
    max_leaf_nodes: String(p.maxLeafNodes),
    max_depth: p.maxDepth === null ? 'none' : String(p.maxDepth),
    min_samples_leaf: String(p.minSamplesLeaf),
    l2_regularization: String(p.l2Regularization),
    max_bins: String(p.maxBins),
    early_stopping: String(resolved.earlyStopping),
    validation_fraction: String(p.validationFraction),
    n_iter_no_change: String(p.nIterNoChange),
    tol: String(p.tol),
    class_weight: p.classWeight,
    categorical: p.categorical.join(','),
    threads: String(resolved.threads),
    test_size: String(p.testSize),
    seed: String(p.seed),
  };
}
