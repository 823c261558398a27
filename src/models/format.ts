import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FluxError } from '../core/index.js';

/**
 * The built-in model format: one JSON document holding everything needed to predict (input
 * signature, preprocessing, coefficients) and to explain where the model came from (params,
 * training time). docs/model-format.md describes it field by field. Any change to the shape
 * bumps MODEL_FORMAT_VERSION; a reader refuses versions it does not know rather than guess.
 */
export const MODEL_FORMAT = 'fluxops-model';
/** The newest version this FluxOps reads and writes: 1 = logistic regression, 2 adds gradient-boosted trees. */
export const MODEL_FORMAT_VERSION = 2;
/** Logistic regression documents are still written as version 1 (any FluxOps reads them). */
export const LOGISTIC_FORMAT_VERSION = 1;
export const MODEL_ALGORITHMS = ['logistic_regression', 'gbdt'] as const;
export const GBDT_TASKS = ['binary_classification', 'multiclass_classification', 'regression'] as const;
export type GbdtTask = (typeof GBDT_TASKS)[number];

const FiniteNumber = Type.Number();

export const InputSpecSchema = Type.Object(
  { name: Type.String({ minLength: 1 }), type: Type.Literal('double') },
  { additionalProperties: false },
);

export const PredictionOutputSchema = Type.Object(
  {
    name: Type.Literal('prediction'),
    /** 'long' for integer class labels, 'double' for other numbers, 'string' for text labels. */
    type: Type.Union([Type.Literal('long'), Type.Literal('double'), Type.Literal('string')]),
  },
  { additionalProperties: false },
);

export const ProbabilitiesOutputSchema = Type.Object(
  {
    name: Type.Literal('probabilities'),
    type: Type.Literal('double'),
    /** [-1, k]: one row per input row, one column per class in target.classes order. */
    shape: Type.Tuple([Type.Literal(-1), Type.Integer({ minimum: 2 })]),
  },
  { additionalProperties: false },
);

export const SignatureSchema = Type.Object(
  {
    inputs: Type.Array(InputSpecSchema, { minItems: 1 }),
    outputs: Type.Tuple([PredictionOutputSchema, ProbabilitiesOutputSchema]),
  },
  { additionalProperties: false },
);

export const LogisticModelSchema = Type.Object(
  {
    format: Type.Literal(MODEL_FORMAT),
    formatVersion: Type.Union([Type.Literal(1), Type.Literal(2)]),
    algorithm: Type.Literal('logistic_regression'),
    signature: SignatureSchema,
    target: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        classes: Type.Array(Type.Union([FiniteNumber, Type.String()]), { minItems: 2, maxItems: 2 }),
      },
      { additionalProperties: false },
    ),
    preprocessing: Type.Object(
      {
        standardize: Type.Object(
          { mean: Type.Array(FiniteNumber), scale: Type.Array(Type.Number({ exclusiveMinimum: 0 })) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    coefficients: Type.Array(FiniteNumber, { minItems: 1 }),
    intercept: FiniteNumber,
    trainedAt: Type.String({ minLength: 1 }),
    params: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);

const Int = Type.Integer();

/**
 * One tree in node arrays (node 0 is the root). A split node sends a row left when its value is ≤
 * threshold (numeric input) or its category is in leftCategories (categorical input); a missing
 * value (and an unknown category) goes left when missingLeft is 1. A leaf has feature −1 and
 * predicts value.
 */
export const GbdtTreeSchema = Type.Object(
  {
    feature: Type.Array(Int, { minItems: 1 }),
    threshold: Type.Array(FiniteNumber),
    missingLeft: Type.Array(Type.Union([Type.Literal(0), Type.Literal(1)])),
    left: Type.Array(Int),
    right: Type.Array(Int),
    value: Type.Array(FiniteNumber),
    /** Categorical split nodes: node index → positions (in the input's categories) that go left. */
    leftCategories: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]+$' }), Type.Array(Int))),
  },
  { additionalProperties: false },
);

export const GbdtModelSchema = Type.Object(
  {
    format: Type.Literal(MODEL_FORMAT),
    formatVersion: Type.Literal(2),
    algorithm: Type.Literal('gbdt'),
    task: Type.Union(GBDT_TASKS.map((t) => Type.Literal(t))),
    signature: Type.Object(
      {
        inputs: Type.Array(
          Type.Object({ name: Type.String({ minLength: 1 }), type: Type.Union([Type.Literal('double'), Type.Literal('string')]) }, { additionalProperties: false }),
          { minItems: 1 },
        ),
        outputs: Type.Union([Type.Tuple([PredictionOutputSchema, ProbabilitiesOutputSchema]), Type.Tuple([PredictionOutputSchema])]),
      },
      { additionalProperties: false },
    ),
    target: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        /** Classification: the class labels in sorted order (the probability columns). */
        classes: Type.Optional(Type.Array(Type.Union([FiniteNumber, Type.String()]), { minItems: 2 })),
      },
      { additionalProperties: false },
    ),
    /** Categorical inputs: name → its categories in sorted order (numbers, or strings for a text input). */
    categories: Type.Record(Type.String(), Type.Array(Type.Union([FiniteNumber, Type.String()]), { minItems: 1 })),
    loss: Type.Union([Type.Literal('log_loss'), Type.Literal('squared_error'), Type.Literal('absolute_error')]),
    /** The raw prediction before any tree: one value, or one per class for multiclass. */
    baseline: Type.Array(FiniteNumber, { minItems: 1 }),
    /** Trees per boosting iteration: the number of classes for multiclass, else 1; tree t adds to raw output t mod this. */
    treesPerIteration: Type.Integer({ minimum: 1 }),
    trees: Type.Array(GbdtTreeSchema),
    /** Per input, in signature order: its share of the total split gain. */
    featureImportance: Type.Array(Type.Number({ minimum: 0 })),
    trainedAt: Type.String({ minLength: 1 }),
    params: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);

export const BuiltinModelSchema = Type.Union([LogisticModelSchema, GbdtModelSchema]);

export type InputSpec = Static<typeof InputSpecSchema>;
export type ModelSignature = Static<typeof SignatureSchema>;
export type LogisticModel = Static<typeof LogisticModelSchema>;
export type GbdtModel = Static<typeof GbdtModelSchema>;
export type GbdtTree = Static<typeof GbdtTreeSchema>;
export type BuiltinModel = LogisticModel | GbdtModel;
export type ClassLabel = number | string;

const checkLogistic = TypeCompiler.Compile(LogisticModelSchema);
const checkGbdt = TypeCompiler.Compile(GbdtModelSchema);

const unsupported = (message: string): FluxError => new FluxError('UNSUPPORTED_MODEL_FORMAT', message);

/** Serialise a model to its JSON document (validated first, so nothing invalid is written). */
export function serializeModel(model: BuiltinModel): string {
  validateModel(model);
  return JSON.stringify(model, null, 2) + '\n';
}

/** Parse and validate a model document; throws UNSUPPORTED_MODEL_FORMAT saying what is wrong. */
export function parseModel(text: string): BuiltinModel {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw unsupported(`model file is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return validateModel(doc);
}

/** Check that a value is a valid built-in model of a version this FluxOps understands. */
export function validateModel(doc: unknown): BuiltinModel {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw unsupported('model file is not a JSON object');
  }
  const { format, formatVersion } = doc as Record<string, unknown>;
  if (format !== MODEL_FORMAT) {
    throw unsupported(
      format === undefined
        ? `not a FluxOps model: the "format" field is missing (expected '${MODEL_FORMAT}')`
        : `not a FluxOps model: format is ${JSON.stringify(format)}, expected '${MODEL_FORMAT}'`,
    );
  }
  if (typeof formatVersion !== 'number' || !Number.isInteger(formatVersion) || formatVersion < 1) {
    throw unsupported(`model formatVersion must be a positive integer, got ${JSON.stringify(formatVersion)}`);
  }
  if (formatVersion > MODEL_FORMAT_VERSION) {
    throw unsupported(
      `model format version ${formatVersion} is newer than this FluxOps understands (${MODEL_FORMAT_VERSION}); upgrade FluxOps`,
    );
  }
  const { algorithm } = doc as Record<string, unknown>;
  if (algorithm === 'gbdt') {
    if (formatVersion < 2) throw unsupported('invalid model file: algorithm gbdt needs formatVersion 2');
    check(checkGbdt, doc);
    checkGbdtConsistency(doc as GbdtModel);
    return doc as GbdtModel;
  }
  if (algorithm !== 'logistic_regression') {
    throw unsupported(`invalid model file at /algorithm: ${JSON.stringify(algorithm)} is not one of ${MODEL_ALGORITHMS.join(', ')}`);
  }
  check(checkLogistic, doc);
  checkConsistency(doc as LogisticModel);
  return doc as LogisticModel;
}

function check(checker: typeof checkLogistic | typeof checkGbdt, doc: unknown): void {
  if (checker.Check(doc)) return;
  const first = checker.Errors(doc).First();
  const where = first?.path ? first.path : '/';
  throw unsupported(`invalid model file at ${where}: ${first?.message ?? 'does not match the model schema'}`);
}

/** What the schema cannot say of a GBDT document: tasks, classes, lengths and tree links that agree. */
function checkGbdtConsistency(m: GbdtModel): void {
  const d = m.signature.inputs.length;
  const names = m.signature.inputs.map((i) => i.name);
  if (new Set(names).size !== d) throw unsupported('invalid model file: signature input names are not unique');
  const classes = m.target.classes;
  const classifier = m.task !== 'regression';
  if (classifier !== (classes !== undefined)) throw unsupported(`invalid model file: target.classes ${classifier ? 'is required for' : 'must be absent for'} task ${m.task}`);
  if (classifier !== (m.loss === 'log_loss')) throw unsupported(`invalid model file: loss ${m.loss} does not fit task ${m.task}`);
  if (classes !== undefined) {
    if (new Set(classes.map((c) => `${typeof c}:${String(c)}`)).size !== classes.length) throw unsupported('invalid model file: target.classes must be distinct');
    if (!classes.every((c) => typeof c === typeof classes[0])) throw unsupported('invalid model file: target.classes must be all numbers or all strings');
    if ((m.task === 'binary_classification') !== (classes.length === 2)) throw unsupported(`invalid model file: task ${m.task} does not fit ${classes.length} classes`);
    const probs = m.signature.outputs[1];
    if (probs === undefined || probs.shape[1] !== classes.length) throw unsupported(`invalid model file: a classifier's signature needs probabilities with ${classes.length} columns`);
  } else if (m.signature.outputs.length !== 1) {
    throw unsupported('invalid model file: a regressor has one output, prediction');
  }
  const K = m.task === 'multiclass_classification' ? classes!.length : 1;
  if (m.treesPerIteration !== K) throw unsupported(`invalid model file: treesPerIteration must be ${K} for task ${m.task}`);
  if (m.baseline.length !== K) throw unsupported(`invalid model file: baseline has ${m.baseline.length} values, expected ${K}`);
  if (m.trees.length % K !== 0) throw unsupported(`invalid model file: ${m.trees.length} trees is not a multiple of treesPerIteration ${K}`);
  if (m.featureImportance.length !== d) throw unsupported(`invalid model file: featureImportance has ${m.featureImportance.length} values but the signature has ${d} inputs`);
  for (const [name, cats] of Object.entries(m.categories)) {
    const j = names.indexOf(name);
    if (j < 0) throw unsupported(`invalid model file: categories names '${name}', which is not an input`);
    const text = m.signature.inputs[j]!.type === 'string';
    if (!cats.every((c) => typeof c === (text ? 'string' : 'number'))) throw unsupported(`invalid model file: the categories of '${name}' must be ${text ? 'strings (its type is string)' : 'numbers'}`);
  }
  for (const input of m.signature.inputs) {
    if (input.type === 'string' && m.categories[input.name] === undefined) throw unsupported(`invalid model file: text input '${input.name}' must be categorical`);
  }
  m.trees.forEach((t, ti) => {
    const at = `invalid model file: trees[${ti}]`;
    const size = t.feature.length;
    for (const [field, len] of [['threshold', t.threshold.length], ['missingLeft', t.missingLeft.length], ['left', t.left.length], ['right', t.right.length], ['value', t.value.length]] as const) {
      if (len !== size) throw unsupported(`${at}.${field} has ${len} values but the tree has ${size} nodes`);
    }
    const parents = new Int32Array(size).fill(-1);
    for (let v = 0; v < size; v++) {
      const f = t.feature[v]!;
      if (f === -1) continue;
      if (f < 0 || f >= d) throw unsupported(`${at}.feature[${v}] = ${f} is not an input index (0..${d - 1}) or −1`);
      for (const c of [t.left[v]!, t.right[v]!]) {
        // Children come after their parent, and each node has one parent: the tree has no cycle.
        if (!(c > v && c < size) || parents[c] !== -1) throw unsupported(`${at}: node ${v} has an invalid child ${c}`);
        parents[c] = v;
      }
      const cats = t.leftCategories?.[String(v)];
      const catsOf = m.categories[names[f]!];
      if ((cats !== undefined) !== (catsOf !== undefined)) throw unsupported(`${at}: node ${v} splits ${catsOf !== undefined ? 'categorical' : 'numeric'} input '${names[f]}' ${catsOf !== undefined ? 'without' : 'with'} leftCategories`);
      if (cats !== undefined && cats.some((c) => c < 0 || c >= catsOf!.length)) throw unsupported(`${at}: node ${v} names a category position outside 0..${catsOf!.length - 1}`);
    }
    for (let v = 1; v < size; v++) if (parents[v] === -1) throw unsupported(`${at}: node ${v} is not reachable from the root`);
  });
  if (Number.isNaN(Date.parse(m.trainedAt))) throw unsupported(`invalid model file: trainedAt '${m.trainedAt}' is not a date`);
}

/** What the schema cannot say: lengths that must agree, distinct classes, a real timestamp. */
function checkConsistency(m: LogisticModel): void {
  const d = m.signature.inputs.length;
  const lengths: [string, number][] = [
    ['coefficients', m.coefficients.length],
    ['preprocessing.standardize.mean', m.preprocessing.standardize.mean.length],
    ['preprocessing.standardize.scale', m.preprocessing.standardize.scale.length],
  ];
  for (const [field, len] of lengths) {
    if (len !== d) throw unsupported(`invalid model file: ${field} has ${len} values but the signature has ${d} inputs`);
  }
  const names = new Set(m.signature.inputs.map((i) => i.name));
  if (names.size !== d) throw unsupported('invalid model file: signature input names are not unique');
  const [a, b] = m.target.classes;
  if (a === b) throw unsupported('invalid model file: target.classes must be two distinct values');
  if (typeof a !== typeof b) throw unsupported('invalid model file: target.classes must be both numbers or both strings');
  const k = m.signature.outputs[1].shape[1];
  if (k !== m.target.classes.length) {
    throw unsupported(`invalid model file: probabilities have ${k} columns but there are ${m.target.classes.length} classes`);
  }
  if (Number.isNaN(Date.parse(m.trainedAt))) throw unsupported(`invalid model file: trainedAt '${m.trainedAt}' is not a date`);
}

/** The signature's output type for a set of class labels. */
export function predictionType(classes: readonly ClassLabel[]): 'long' | 'double' | 'string' {
  if (classes.some((c) => typeof c === 'string')) return 'string';
  return classes.every((c) => Number.isInteger(c)) ? 'long' : 'double';
}
