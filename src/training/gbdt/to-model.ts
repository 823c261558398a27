import { type GbdtModel, type GbdtTask, type GbdtTree, MODEL_FORMAT, predictionType } from '../../models/index.js';
import type { GbdtFit } from './boosting.js';
import type { GbdtLoss } from './losses.js';

/** Above every finite input: the threshold of a split that sends all values left and missing ones right. */
const ALL_VALUES = Number.MAX_VALUE;

export interface ModelDescription {
  task: GbdtTask;
  loss: GbdtLoss;
  featureNames: string[];
  types: ('double' | 'string')[];
  categories: ((number | string)[] | null)[];
  target: string;
  classes: (number | string)[] | undefined;
  trainedAt: string;
  params: Record<string, string>;
}

/** The model document of a fitted ensemble: bin thresholds become raw-value thresholds, category bins become category positions. */
export function toGbdtModel(fit: GbdtFit, desc: ModelDescription): GbdtModel {
  const { mapper } = fit;
  const d = desc.featureNames.length;
  const categories: Record<string, (number | string)[]> = {};
  // The model's categories of a feature are those seen in training, in bin order.
  const modelCats: ((number | string)[] | null)[] = desc.categories.map((all, j) => {
    if (!mapper.categorical[j]) return null;
    const seen = Array.from(mapper.categories[j]!);
    const cats = desc.types[j] === 'string' ? seen.map((code) => (all as string[])[code]!) : seen;
    if (cats.length > 0) categories[desc.featureNames[j]!] = cats;
    return cats;
  });
  const trees: GbdtTree[] = fit.trees.map((t) => {
    const size = t.feature.length;
    const out: GbdtTree = { feature: [], threshold: [], missingLeft: [], left: [], right: [], value: [] };
    const leftCategories: Record<string, number[]> = {};
    for (let v = 0; v < size; v++) {
      const f = t.feature[v]!;
      out.feature.push(f);
      out.left.push(t.left[v]!);
      out.right.push(t.right[v]!);
      out.value.push(f === -1 ? t.value[v]! : 0);
      out.missingLeft.push(f !== -1 && t.missingLeft[v] ? 1 : 0);
      if (f === -1) {
        out.threshold.push(0);
        continue;
      }
      const bits = t.catBits[v];
      if (bits !== null && bits !== undefined) {
        out.threshold.push(0);
        const cats: number[] = [];
        const k = modelCats[f]!.length;
        for (let b = 0; b < k; b++) if ((bits[b >>> 5]! >>> (b & 31)) & 1) cats.push(b);
        leftCategories[String(v)] = cats;
        continue;
      }
      const edges = mapper.thresholds[f]!;
      const b = t.binThreshold[v]!;
      out.threshold.push(b < edges.length ? edges[b]! : ALL_VALUES);
    }
    if (Object.keys(leftCategories).length > 0) out.leftCategories = leftCategories;
    return out;
  });
  let totalGain = 0;
  for (const g of fit.gainImportance) totalGain += g;
  const classes = desc.classes;
  return {
    format: MODEL_FORMAT,
    formatVersion: 2,
    algorithm: 'gbdt',
    task: desc.task,
    signature: {
      inputs: desc.featureNames.map((name, j) => ({ name, type: desc.types[j]! })),
      outputs:
        classes === undefined
          ? [{ name: 'prediction', type: 'double' }]
          : [
              { name: 'prediction', type: predictionType(classes) },
              { name: 'probabilities', type: 'double', shape: [-1, classes.length] },
            ],
    },
    target: classes === undefined ? { name: desc.target } : { name: desc.target, classes },
    categories,
    loss: desc.loss,
    baseline: Array.from(fit.baseline),
    treesPerIteration: fit.treesPerIteration,
    trees,
    featureImportance: Array.from({ length: d }, (_, j) => (totalGain > 0 ? fit.gainImportance[j]! / totalGain : 0)),
    trainedAt: desc.trainedAt,
    params: desc.params,
  };
}
