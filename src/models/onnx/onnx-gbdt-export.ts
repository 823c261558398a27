import { FluxError } from '../../core/index.js';
import { predictionType, type GbdtModel, type GbdtTree } from '../format.js';
import { attribute, binaryLabelNodes, constantTensor, onnxModel, onnxNode, tensorInfo, type OnnxElement } from './onnx-builder.js';
import { OnnxDataType, encodeOnnxModel, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-codec.js';
import { ONNX_META } from './onnx-meta.js';

/**
 * ai.onnx.ml 3 is the operator set whose TreeEnsembleClassifier and TreeEnsembleRegressor take
 * thresholds, leaf weights and base values as double tensors (`*_as_tensor`); version 5 replaces
 * both operators with TreeEnsemble.
 */
const ML_OPSET = 3;
const ML = 'ai.onnx.ml';

/** The trees in the node-array attributes both tree-ensemble operators share. */
interface FlatEnsemble {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  /** Thresholds (BRANCH_LEQ) and category values (BRANCH_EQ); 0 for leaves. */
  values: number[];
  trueIds: number[];
  falseIds: number[];
  missingTrue: number[];
  /** One entry per leaf: its tree, node, the raw output it adds to, and the value. */
  leafTreeIds: number[];
  leafNodeIds: number[];
  leafTargets: number[];
  leafWeights: number[];
}

/**
 * Writes a built-in gradient-boosted tree model as an ONNX graph on one double input [N, F]
 * (columns in signature order) with ai.onnx.ml's TreeEnsembleClassifier (binary and multiclass)
 * or TreeEnsembleRegressor (regression), thresholds, leaf values and baselines in float64.
 *
 * The trees keep the built-in semantics: a split sends a row to its left child (the true branch)
 * when x ≤ threshold (BRANCH_LEQ), a missing value (NaN) left when missingLeft is 1
 * (nodes_missing_value_tracks_true). A categorical split on a numeric input becomes a chain of
 * BRANCH_EQ nodes on category values whose true branches share one child, so a category outside
 * the model's list goes where a missing value goes, as in the built-in predictor.
 *
 * Both operators add up the trees in double but output float32, so the ensemble runs with
 * post_transform NONE and the link is applied in float64 with standard operators: binary reads the
 * raw score z (column 1 of the classifier's scores: ONNX Runtime writes [−z, z], or [1 − z, z]
 * when no leaf value is negative) and computes the sigmoid, `1 − p` and the label (classes[1]
 * when p > ½) as the built-in predictor does; multiclass takes the softmax of the K raw scores and
 * the classifier's label (its first highest raw score, decided in double). Probabilities and
 * values therefore agree with the built-in ones to about |raw score|·2⁻²⁴ relative. Outputs:
 * `label` [N] and `probabilities` [N, k] in class order for a classifier, `prediction` [N]
 * (double) for a regressor.
 *
 * Refused (UNSUPPORTED_MODEL_FORMAT): models with text inputs, since a served ONNX graph takes
 * numeric tensors only and the category positions the built-in matrix holds are not what a client
 * sends.
 */
export function exportGbdt(model: GbdtModel, input: string, opts: { producerVersion?: string; modelName?: string }): Uint8Array {
  const inputs = model.signature.inputs;
  const text = inputs.filter((i) => i.type === 'string').map((i) => `'${i.name}'`);
  if (text.length > 0) {
    throw new FluxError(
      'UNSUPPORTED_MODEL_FORMAT',
      `cannot export this gbdt model to ONNX: its text input${text.length > 1 ? 's' : ''} ${text.join(', ')} ${text.length > 1 ? 'are' : 'is'} categorical on text values, and an ONNX graph served by FluxOps takes numeric tensors only; retrain with ${text.length > 1 ? 'those columns' : 'the column'} excluded, or coded as numbers and named in the categorical parameter (numeric categorical inputs are exported)`,
    );
  }
  const columns = inputs.map((i) => i.name);
  const f = columns.length;
  const flat = flattenTrees(model);
  const classes = model.target.classes;
  const graph =
    classes === undefined
      ? regressorGraph(model, flat, input)
      : model.task === 'binary_classification'
        ? binaryGraph(model, flat, input, classes)
        : multiclassGraph(model, flat, input, classes);
  return encodeOnnxModel(
    onnxModel({
      graph: { name: opts.modelName ?? 'fluxops_gbdt', inputs: [tensorInfo(input, 'float64', ['N', f])], ...graph },
      opsets: { '': 13, [ML]: ML_OPSET },
      producer: { name: 'fluxops', version: opts.producerVersion ?? '' },
      docString: `FluxOps gradient-boosted trees (${model.task}, ${model.trees.length} trees) for ${model.target.name}, trained ${model.trainedAt}`,
      metadata: {
        [ONNX_META.inputColumns]: JSON.stringify(columns),
        ...(classes !== undefined ? { [ONNX_META.classes]: JSON.stringify(classes) } : {}),
        [ONNX_META.target]: model.target.name,
        [ONNX_META.trainedAt]: model.trainedAt,
        [ONNX_META.algorithm]: model.algorithm,
      },
    }),
  );
}

type GraphParts = { outputs: ReturnType<typeof tensorInfo>[]; nodes: OnnxNode[]; initializers: OnnxTensor[] };

const doubles = (name: string, values: readonly number[]): OnnxAttribute => attribute.tensor(name, constantTensor(name, 'float64', [values.length], values));

/** The node attributes of both operators, with `prefix` (class_ or target_) for the leaf weights. */
function ensembleAttributes(flat: FlatEnsemble, prefix: 'class' | 'target', baseline: readonly number[]): OnnxAttribute[] {
  return [
    attribute.ints('nodes_treeids', flat.treeIds),
    attribute.ints('nodes_nodeids', flat.nodeIds),
    attribute.ints('nodes_featureids', flat.featureIds),
    attribute.strings('nodes_modes', flat.modes),
    doubles('nodes_values_as_tensor', flat.values),
    attribute.ints('nodes_truenodeids', flat.trueIds),
    attribute.ints('nodes_falsenodeids', flat.falseIds),
    attribute.ints('nodes_missing_value_tracks_true', flat.missingTrue),
    attribute.ints(`${prefix}_treeids`, flat.leafTreeIds),
    attribute.ints(`${prefix}_nodeids`, flat.leafNodeIds),
    attribute.ints(`${prefix}_ids`, flat.leafTargets),
    doubles(`${prefix}_weights_as_tensor`, flat.leafWeights),
    doubles('base_values_as_tensor', baseline),
    attribute.string('post_transform', 'NONE'),
  ];
}

/** How the classifier names its classes, and the label tensor when the graph maps indices to labels itself. */
function classLabels(classes: readonly (number | string)[]): { attr: OnnxAttribute; element: OnnxElement; labels: OnnxTensor } {
  const type = predictionType(classes);
  if (type === 'string') {
    const names = classes.map(String);
    return { attr: attribute.strings('classlabels_strings', names), element: 'string', labels: constantTensor('classes', 'string', [names.length], names) };
  }
  const values = classes as number[];
  // Fractional labels have no classifier attribute: the classifier names them by index and a Gather maps the index to the label.
  if (type === 'double') return { attr: attribute.ints('classlabels_int64s', values.map((_, i) => i)), element: 'float64', labels: constantTensor('classes', 'float64', [values.length], values) };
  return { attr: attribute.ints('classlabels_int64s', values), element: 'int64', labels: constantTensor('classes', 'int64', [values.length], values) };
}

function binaryGraph(model: GbdtModel, flat: FlatEnsemble, input: string, classes: readonly (number | string)[]): GraphParts {
  const { attr, element, labels } = classLabels(classes);
  return {
    outputs: [tensorInfo('label', element, ['N']), tensorInfo('probabilities', 'float64', ['N', 2])],
    initializers: [
      labels,
      constantTensor('score_column', 'int64', [1], [1]),
      constantTensor('zero', 'float64', [1], [0]),
      constantTensor('one', 'float64', [1], [1]),
      constantTensor('half', 'float64', [1], [0.5]),
      constantTensor('flat', 'int64', [1], [-1]),
    ],
    nodes: [
      onnxNode('TreeEnsembleClassifier', [input], ['tree_label', 'tree_scores'], [attr, ...ensembleAttributes(flat, 'class', model.baseline)], ML),
      // The raw score z (baseline included), whatever ONNX Runtime writes in column 0.
      onnxNode('Gather', ['tree_scores', 'score_column'], ['raw_float'], [attribute.int('axis', 1)]),
      onnxNode('Cast', ['raw_float'], ['raw'], [attribute.int('to', OnnxDataType.DOUBLE)]),
      // The sigmoid as the built-in predictor computes it, e = exp(−|z|), p = z ≥ 0 ? 1/(1+e) : e/(1+e):
      // ONNX Runtime's double Sigmoid loses the relative precision of small probabilities (1e-3 at z = −30).
      onnxNode('Abs', ['raw'], ['raw_abs']),
      onnxNode('Neg', ['raw_abs'], ['raw_neg_abs']),
      onnxNode('Exp', ['raw_neg_abs'], ['e']),
      onnxNode('Add', ['one', 'e'], ['one_plus_e']),
      onnxNode('Div', ['one', 'one_plus_e'], ['p_if_nonnegative']),
      onnxNode('Div', ['e', 'one_plus_e'], ['p_if_negative']),
      onnxNode('GreaterOrEqual', ['raw', 'zero'], ['raw_nonnegative']),
      onnxNode('Where', ['raw_nonnegative', 'p_if_nonnegative', 'p_if_negative'], ['p_positive']),
      ...binaryLabelNodes('p_positive'),
    ],
  };
}

function multiclassGraph(model: GbdtModel, flat: FlatEnsemble, input: string, classes: readonly (number | string)[]): GraphParts {
  const { attr, element, labels } = classLabels(classes);
  const k = classes.length;
  const byIndex = element === 'float64';
  return {
    outputs: [tensorInfo('label', element, ['N']), tensorInfo('probabilities', 'float64', ['N', k])],
    initializers: byIndex ? [labels] : [],
    nodes: [
      onnxNode('TreeEnsembleClassifier', [input], [byIndex ? 'class_index' : 'label', 'tree_scores'], [attr, ...ensembleAttributes(flat, 'class', model.baseline)], ML),
      onnxNode('Cast', ['tree_scores'], ['raw'], [attribute.int('to', OnnxDataType.DOUBLE)]),
      onnxNode('Softmax', ['raw'], ['probabilities'], [attribute.int('axis', 1)]),
      ...(byIndex ? [onnxNode('Gather', ['classes', 'class_index'], ['label'], [attribute.int('axis', 0)])] : []),
    ],
  };
}

function regressorGraph(model: GbdtModel, flat: FlatEnsemble, input: string): GraphParts {
  return {
    outputs: [tensorInfo('prediction', 'float64', ['N'])],
    initializers: [constantTensor('flat', 'int64', [1], [-1])],
    nodes: [
      onnxNode('TreeEnsembleRegressor', [input], ['raw_float'], [attribute.int('n_targets', 1), ...ensembleAttributes(flat, 'target', model.baseline)], ML),
      onnxNode('Cast', ['raw_float'], ['raw'], [attribute.int('to', OnnxDataType.DOUBLE)]),
      onnxNode('Reshape', ['raw', 'flat'], ['prediction']),
    ],
  };
}

/**
 * The trees as the operators' node arrays, renumbered in preorder (each tree's root first, as
 * ONNX Runtime takes the first node of a tree for its root). Tree t adds to raw output
 * t mod treesPerIteration. A model without trees gets one leaf of value 0, as the operators need a node.
 */
function flattenTrees(model: GbdtModel): FlatEnsemble {
  const flat: FlatEnsemble = { treeIds: [], nodeIds: [], featureIds: [], modes: [], values: [], trueIds: [], falseIds: [], missingTrue: [], leafTreeIds: [], leafNodeIds: [], leafTargets: [], leafWeights: [] };
  const names = model.signature.inputs.map((i) => i.name);
  const categoriesOf = names.map((name) => (model.categories[name] as number[] | undefined) ?? null);
  const trees: GbdtTree[] = model.trees.length > 0 ? model.trees : [{ feature: [-1], threshold: [0], missingLeft: [0], left: [-1], right: [-1], value: [0] }];
  trees.forEach((tree, ti) => addTree(flat, tree, ti, ti % model.treesPerIteration, categoriesOf));
  return flat;
}

/**
 * A categorical split as equality tests: the category values `tests` send a row to `onTrue`, any
 * other value (a missing one included) to `onFalse`. With missingLeft 0 the tests are the left
 * categories; with missingLeft 1 they are the other known categories and the chain ends left, so
 * unknown and missing values take the missing side either way. No tests: every row takes `onFalse`.
 */
function categoricalTests(tree: GbdtTree, v: number, categories: readonly number[]): { tests: number[]; onTrue: number; onFalse: number } {
  const left = new Set(tree.leftCategories![String(v)]);
  const missingLeft = tree.missingLeft[v] === 1;
  const tests = categories.filter((_, p) => left.has(p) !== missingLeft);
  return missingLeft ? { tests, onTrue: tree.right[v]!, onFalse: tree.left[v]! } : { tests, onTrue: tree.left[v]!, onFalse: tree.right[v]! };
}

function addTree(flat: FlatEnsemble, tree: GbdtTree, treeId: number, target: number, categoriesOf: ReadonlyArray<readonly number[] | null>): void {
  let nextId = 0;
  // A categorical split whose tests are empty sends every row one way: the node is replaced by that child.
  const resolve = (v: number): number => {
    for (;;) {
      const f = tree.feature[v]!;
      const cats = f >= 0 && tree.leftCategories?.[String(v)] !== undefined ? categoriesOf[f] : null;
      if (cats === null || cats === undefined) return v;
      const { tests, onFalse } = categoricalTests(tree, v, cats);
      if (tests.length > 0) return v;
      v = onFalse;
    }
  };
  const pending: Array<{ v: number; id: number }> = [];
  const idOf = (v: number): number => {
    const id = nextId++;
    pending.push({ v: resolve(v), id });
    return id;
  };
  const push = (id: number, mode: string, feature: number, value: number, trueId: number, falseId: number, missingTrue: number): void => {
    flat.treeIds.push(treeId);
    flat.nodeIds.push(id);
    flat.featureIds.push(feature);
    flat.modes.push(mode);
    flat.values.push(value);
    flat.trueIds.push(trueId);
    flat.falseIds.push(falseId);
    flat.missingTrue.push(missingTrue);
  };
  idOf(0);
  // Depth first with an explicit stack (trees may be deeper than the call stack allows).
  while (pending.length > 0) {
    const { v, id } = pending.pop()!;
    const f = tree.feature[v]!;
    if (f === -1) {
      push(id, 'LEAF', 0, 0, 0, 0, 0);
      flat.leafTreeIds.push(treeId);
      flat.leafNodeIds.push(id);
      flat.leafTargets.push(target);
      flat.leafWeights.push(tree.value[v]!);
      continue;
    }
    const cats = tree.leftCategories?.[String(v)] !== undefined ? categoriesOf[f] : null;
    if (cats === null || cats === undefined) {
      const trueId = idOf(tree.left[v]!);
      const falseId = idOf(tree.right[v]!);
      push(id, 'BRANCH_LEQ', f, tree.threshold[v]!, trueId, falseId, tree.missingLeft[v]!);
      continue;
    }
    const { tests, onTrue, onFalse } = categoricalTests(tree, v, cats);
    // The chain's nodes share one true child: ONNX Runtime accepts a node reached from several true branches.
    const trueId = idOf(onTrue);
    const chain = tests.map((_, i) => (i === 0 ? id : nextId++));
    const falseId = idOf(onFalse);
    tests.forEach((value, i) => push(chain[i]!, 'BRANCH_EQ', f, value, trueId, i + 1 < chain.length ? chain[i + 1]! : falseId, 0));
  }
}
