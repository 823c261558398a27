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
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_ALGORITHMS = ['logistic_regression'] as const;

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

export const BuiltinModelSchema = Type.Object(
  {
    format: Type.Literal(MODEL_FORMAT),
    formatVersion: Type.Literal(MODEL_FORMAT_VERSION),
    algorithm: Type.Union(MODEL_ALGORITHMS.map((a) => Type.Literal(a))),
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

export type InputSpec = Static<typeof InputSpecSchema>;
export type ModelSignature = Static<typeof SignatureSchema>;
export type BuiltinModel = Static<typeof BuiltinModelSchema>;
export type ClassLabel = number | string;

const checkModel = TypeCompiler.Compile(BuiltinModelSchema);

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
  if (!checkModel.Check(doc)) {
    const first = checkModel.Errors(doc).First();
    const where = first?.path ? first.path : '/';
    throw unsupported(`invalid model file at ${where}: ${first?.message ?? 'does not match the model schema'}`);
  }
  checkConsistency(doc);
  return doc;
}

/** What the schema cannot say: lengths that must agree, distinct classes, a real timestamp. */
function checkConsistency(m: BuiltinModel): void {
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
