import type { RegistryApi } from '../client/index.js';
import { FluxError } from '../core/index.js';
import type { ModelVersion } from '../registry/index.js';

/** Metrics where lower is better; every other metric is better higher. */
const LOWER_IS_BETTER = new Set(['log_loss', 'loss', 'rmse', 'mse', 'mae', 'mape']);

/** A promotion gate: the new model must beat the one at the alias on `metric` by at least `minDelta`. */
export interface ImprovementRule {
  metric: string;
  minDelta: number;
  /** `max`: higher is better (f1, roc_auc…); `min`: lower is better (log_loss…). */
  direction: 'max' | 'min';
}

/** `f1`, `f1:0.01` or `log_loss:0.02`: the metric, and the least improvement (default 0: any). */
export function parseImprovement(text: string, flag = '--require-improvement'): ImprovementRule {
  const m = /^([A-Za-z_][\w.-]{0,99})(?::([0-9]*\.?[0-9]+))?$/.exec(text.trim());
  if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag} must be a metric with an optional least improvement, such as f1 or f1:0.01; got '${text}'`, { field: flag });
  const minDelta = m[2] === undefined ? 0 : Number(m[2]);
  if (!Number.isFinite(minDelta) || minDelta < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag}: the least improvement must be a number ≥ 0; got '${m[2]}'`, { field: flag });
  return { metric: m[1]!, minDelta, direction: LOWER_IS_BETTER.has(m[1]!) ? 'min' : 'max' };
}

export interface ImprovementVerdict {
  improved: boolean;
  metric: string;
  candidate: number;
  /** The version at the alias and its value, or null when the alias points nowhere yet. */
  current: { version: string; value: number } | null;
  /** Candidate minus current in the metric's better direction (positive is better); null without a current. */
  gain: number | null;
  /** One sentence saying why. */
  reason: string;
}

/**
 * Compares a candidate's metric with the version the alias points at (the reference design's
 * `improved` check). A first model (no version at the alias) passes; a current version without
 * the metric fails, since it cannot be judged better.
 */
export async function judgeImprovement(registry: Pick<RegistryApi, 'getVersionByAlias'>, model: string, alias: string, candidateMetrics: Record<string, number>, rule: ImprovementRule): Promise<ImprovementVerdict> {
  const candidate = candidateMetrics[rule.metric];
  if (candidate === undefined || !Number.isFinite(candidate)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `the new model has no metric '${rule.metric}' to compare (it has: ${Object.keys(candidateMetrics).join(', ') || 'none'})`, { field: 'metric' });
  }
  let current: ModelVersion | undefined;
  try {
    current = await registry.getVersionByAlias(model, alias);
  } catch (e) {
    if (!(e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST')) throw e;
  }
  const fmt = (x: number) => x.toFixed(4);
  if (current === undefined) {
    return { improved: true, metric: rule.metric, candidate, current: null, gain: null, reason: `${model} has no ${alias} version yet: the first one passes` };
  }
  const value = current.metrics[rule.metric];
  if (value === undefined || !Number.isFinite(value)) {
    return { improved: false, metric: rule.metric, candidate, current: null, gain: null, reason: `${model}@${alias} (v${current.version}) has no ${rule.metric} to compare with` };
  }
  const gain = rule.direction === 'max' ? candidate - value : value - candidate;
  const improved = rule.minDelta === 0 ? gain > 0 : gain >= rule.minDelta - 1e-12;
  const side = rule.direction === 'max' ? 'above' : 'below';
  const by = rule.minDelta === 0 ? '' : ` by at least ${rule.minDelta}`;
  return {
    improved,
    metric: rule.metric,
    candidate,
    current: { version: current.version, value },
    gain,
    reason: improved
      ? `${rule.metric} ${fmt(candidate)} beats ${model}@${alias} (v${current.version}) ${fmt(value)}${rule.minDelta > 0 ? ` by at least ${rule.minDelta}` : ''}`
      : `${rule.metric} ${fmt(candidate)} is not ${side} ${model}@${alias}'s ${fmt(value)} (v${current.version})${by}`,
  };
}
