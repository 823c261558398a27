import { FluxError, invalid } from '../core/index.js';

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Area under the ROC curve; NaN when the labels hold only one class (it is undefined then). */
  roc_auc: number;
  log_loss: number;
  /** [[tn, fp], [fn, tp]], as scikit-learn's confusion_matrix with labels [0, 1]. */
  confusion_matrix: [[number, number], [number, number]];
}

const LOG_LOSS_EPS = 1e-15;

/**
 * Binary classification metrics from 0/1 labels and the predicted probability of class 1.
 * A row is predicted positive when its probability is strictly above the threshold, as
 * scikit-learn's predict (decision function > 0). A ratio with a zero denominator is 0, as
 * scikit-learn with zero_division=0.
 */
export function classificationMetrics(yTrue: Float64Array, prob: Float64Array, threshold = 0.5): ClassificationMetrics {
  const n = yTrue.length;
  if (n === 0) throw invalid('cannot compute metrics on zero rows');
  if (prob.length !== n) throw invalid(`got ${n} labels but ${prob.length} probabilities`);
  if (!(threshold >= 0 && threshold <= 1)) throw invalid(`threshold must be in [0, 1], got ${threshold}`);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let ll = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!;
    const p = prob[i]!;
    if (y !== 0 && y !== 1) throw new FluxError('INVALID_DATA', `labels must be 0 or 1; row ${i + 1} has ${y}`);
    if (!(p >= 0 && p <= 1)) throw new FluxError('INVALID_DATA', `probabilities must be in [0, 1]; row ${i + 1} has ${p}`);
    const positive = p > threshold;
    if (y === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
    else tn++;
    const pc = Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    ll -= y === 1 ? Math.log(pc) : Math.log(1 - pc);
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return {
    accuracy: (tp + tn) / n,
    precision,
    recall,
    // 2tp / (2tp + fp + fn) equals the harmonic mean and is 0, not NaN, when tp = 0.
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    roc_auc: rocAuc(yTrue, prob),
    log_loss: ll / n,
    confusion_matrix: [
      [tn, fp],
      [fn, tp],
    ],
  };
}

/**
 * ROC AUC by the Mann–Whitney rank statistic: the probability that a random positive scores
 * above a random negative, ties counting one half (tied scores share their average rank).
 */
export function rocAuc(yTrue: Float64Array, score: Float64Array): number {
  const n = yTrue.length;
  if (score.length !== n) throw invalid(`got ${n} labels but ${score.length} scores`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[a]! - score[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    const s = score[order[start]!]!;
    while (end < n && score[order[end]!]! === s) end++;
    // Ranks start..end-1 (0-based) are tied: each gets the average 1-based rank.
    const avgRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (yTrue[order[k]!] === 1) {
        positives++;
        rankSum += avgRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface MulticlassMetrics {
  accuracy: number;
  /** Unweighted means over the classes of per-class precision, recall and F1 (zero_division = 0). */
  precision_macro: number;
  recall_macro: number;
  f1_macro: number;
  log_loss: number;
  /** confusion_matrix[true][predicted], classes in sorted order. */
  confusion_matrix: number[][];
}

/** Multiclass metrics from class indices and the n×k probability matrix; the prediction is the first most probable class. */
export function multiclassMetrics(yTrue: Float64Array, prob: Float64Array, k: number): MulticlassMetrics {
  const n = yTrue.length;
  if (n === 0) throw invalid('cannot compute metrics on zero rows');
  if (prob.length !== n * k) throw invalid(`got ${n} labels but ${prob.length / k} probability rows`);
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let ll = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i]!;
    let arg = 0;
    for (let c = 1; c < k; c++) if (prob[i * k + c]! > prob[i * k + arg]!) arg = c;
    cm[y]![arg]!++;
    if (arg === y) correct++;
    ll -= Math.log(Math.min(Math.max(prob[i * k + y]!, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
  }
  let p = 0;
  let r = 0;
  let f = 0;
  for (let c = 0; c < k; c++) {
    const tp = cm[c]![c]!;
    let predicted = 0;
    let actual = 0;
    for (let o = 0; o < k; o++) {
      predicted += cm[o]![c]!;
      actual += cm[c]![o]!;
    }
    p += predicted === 0 ? 0 : tp / predicted;
    r += actual === 0 ? 0 : tp / actual;
    f += predicted + actual === 0 ? 0 : (2 * tp) / (predicted + actual);
  }
  return { accuracy: correct / n, precision_macro: p / k, recall_macro: r / k, f1_macro: f / k, log_loss: ll / n, confusion_matrix: cm };
}

export interface RegressionMetrics {
  rmse: number;
  mae: number;
  /** Coefficient of determination, 1 − SS_res / SS_tot (scikit-learn's r2_score). */
  r2: number;
}

export function regressionMetrics(yTrue: Float64Array, yPred: Float64Array): RegressionMetrics {
  const n = yTrue.length;
  if (n === 0) throw invalid('cannot compute metrics on zero rows');
  if (yPred.length !== n) throw invalid(`got ${n} targets but ${yPred.length} predictions`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i]! / n;
  let ss = 0;
  let tot = 0;
  let abs = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i]! - yPred[i]!;
    ss += e * e;
    abs += Math.abs(e);
    tot += (yTrue[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(ss / n), mae: abs / n, r2: tot === 0 ? (ss === 0 ? 1 : 0) : 1 - ss / tot };
}
