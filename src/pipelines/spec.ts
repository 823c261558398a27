import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The pipeline file's JSON schema (published as `docs/pipeline.schema.json`, which editors can
 * use; `tools/generate-openapi.js` writes it and a test checks it is current). A value may be
 * given as one `${{ … }}` template wherever the file says a number or a boolean, since it is
 * only known when the step runs; the step's inputs are checked again, strictly, once filled.
 */
const TEMPLATE = Type.String({ pattern: '^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$', description: 'a ${{ … }} expression' });
const or = <T extends TSchema>(s: T) => Type.Union([s, TEMPLATE]);
const NAME = Type.String({ pattern: '^[A-Za-z0-9][\\w.-]{0,99}$' });
const DURATION = Type.Union([Type.String({ pattern: '^\\s*\\d+\\s*(ms|s|m|h|d)?\\s*$' }), Type.Integer({ minimum: 0 }), TEMPLATE], { description: 'a duration: 30s, 10m, 2h, 1d, or ms' });
const SCALAR = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const StepTypes = {
  train: Type.Object(
    {
      data: Type.String({ description: 'CSV file (relative to the pipeline file)' }),
      target: Type.String(),
      exclude: Type.Optional(Type.Array(Type.String())),
      algo: Type.Optional(Type.Union([Type.Literal('logistic_regression'), Type.Literal('gbdt')], { description: 'the built-in trainer (default logistic_regression)' })),
      categorical: Type.Optional(Type.Array(Type.String(), { description: 'gbdt: numeric columns to treat as categories' })),
      params: Type.Optional(Type.Record(Type.String(), SCALAR, { description: 'the trainer\'s hyperparameters (docs/training.md)' })),
      experiment: Type.Optional(Type.String()),
      run_name: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  evaluate: Type.Object(
    {
      model: Type.String({ description: 'name@alias, name/version, or runs:/<run>/model' }),
      data: Type.String(),
      target: Type.String(),
      experiment: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  compare: Type.Object(
    {
      model: Type.String({ description: 'the registered model' }),
      alias: Type.Optional(Type.String({ default: 'production' })),
      metric: Type.Optional(Type.String({ default: 'f1' })),
      min_delta: Type.Optional(or(Type.Number({ minimum: 0 }))),
      run: Type.String({ description: "the candidate's run id (its metrics are compared)" }),
    },
    { additionalProperties: false },
  ),
  approve: Type.Object(
    {
      timeout: Type.Optional(DURATION),
      distinct_approver: Type.Optional(or(Type.Boolean())),
      message: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  register: Type.Object(
    {
      model: Type.String(),
      run: Type.String({ description: 'the run whose model folder is registered' }),
      path: Type.Optional(Type.String({ default: 'model' })),
      aliases: Type.Optional(Type.Array(Type.String())),
      description: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  deploy: Type.Object(
    {
      endpoint: Type.String({ description: 'created (in `environment`) when it does not exist' }),
      environment: Type.Optional(Type.String()),
      model: Type.String(),
      version: or(Type.Union([Type.String(), Type.Integer({ minimum: 1 })])),
      deployment: Type.Optional(Type.String()),
      strategy: Type.Optional(Type.Union([Type.Literal('canary'), Type.Literal('blueGreen')])),
      steps: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Union([Type.Integer(), Type.Literal('pause')]))])),
      bake: Type.Optional(DURATION),
      gates: Type.Optional(Type.Array(Type.String())),
      min_requests: Type.Optional(or(Type.Integer({ minimum: 1 }))),
      interval: Type.Optional(DURATION),
      smoke: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))),
      wait: Type.Optional(or(Type.Boolean())),
    },
    { additionalProperties: false },
  ),
  'smoke-test': Type.Object(
    {
      endpoint: Type.String(),
      deployment: Type.Optional(Type.String()),
      requests: Type.Array(
        Type.Object(
          { body: Type.Record(Type.String(), Type.Unknown()), status: Type.Optional(Type.Integer()), predictions: Type.Optional(Type.Array(Type.Unknown())) },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    },
    { additionalProperties: false },
  ),
  sweep: Type.Object(
    {
      data: Type.Optional(Type.String({ description: 'trials train the built-in model on this CSV…' })),
      target: Type.Optional(Type.String()),
      command: Type.Optional(Type.String({ description: '…or run this command, with ${{ trial.<param> }} filled, logging the objective to its run' })),
      exclude: Type.Optional(Type.Array(Type.String())),
      algo: Type.Optional(Type.Union([Type.Literal('logistic_regression'), Type.Literal('gbdt')], { description: 'the built-in trainer of the trials (default logistic_regression)' })),
      categorical: Type.Optional(Type.Array(Type.String(), { description: 'gbdt: numeric columns to treat as categories' })),
      experiment: Type.Optional(Type.String()),
      search_space: Type.Record(Type.String(), Type.Unknown()),
      sampling: Type.Optional(or(Type.Union([Type.Literal('grid'), Type.Literal('random'), Type.Literal('tpe')]))),
      objective: Type.Optional(Type.Object({ metric: Type.String(), goal: Type.Union([Type.Literal('maximize'), Type.Literal('minimize')]) }, { additionalProperties: false })),
      max_trials: Type.Optional(or(Type.Integer({ minimum: 1, maximum: 10_000 }))),
      max_concurrent_trials: Type.Optional(or(Type.Integer({ minimum: 1, maximum: 256 }))),
      timeout: Type.Optional(DURATION),
      trial_timeout: Type.Optional(DURATION),
      early_termination: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      seed: Type.Optional(or(Type.Integer())),
      register: Type.Optional(Type.Object({ model: Type.String(), aliases: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
} as const;

export type StepType = keyof typeof StepTypes;
export const STEP_TYPES = Object.keys(StepTypes) as StepType[];
export type StepInputs<T extends StepType> = Static<(typeof StepTypes)[T]>;

const Step = Type.Object(
  {
    type: Type.Optional(Type.Union(STEP_TYPES.map((t) => Type.Literal(t)), { description: 'a built-in step; or give `run`' })),
    run: Type.Optional(Type.String({ minLength: 1, description: 'a shell command, run with the tracking variables set' })),
    description: Type.Optional(Type.String()),
    needs: Type.Optional(Type.Union([NAME, Type.Array(NAME, { uniqueItems: true })])),
    if: Type.Optional(Type.String({ minLength: 1 })),
    with: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), SCALAR)),
    inputs: Type.Optional(Type.Array(Type.String(), { description: 'files whose content is part of a run step’s cache key' })),
    working_directory: Type.Optional(Type.String()),
    timeout: Type.Optional(DURATION),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    retry_delay: Type.Optional(DURATION),
    retry_backoff: Type.Optional(Type.Boolean()),
    cache: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    allOf: [
      { oneOf: [{ required: ['type'], not: { required: ['run'] } }, { required: ['run'], not: { required: ['type'] } }] },
      ...STEP_TYPES.map((t) => ({ if: { properties: { type: { const: t } }, required: ['type'] }, then: { properties: { with: StepTypes[t] }, required: ['with'] } })),
    ],
  },
);

const Param = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('string'), Type.Literal('number'), Type.Literal('integer'), Type.Literal('boolean')])),
    default: Type.Optional(SCALAR),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Trigger = Type.Object(
  {
    event: Type.String({ description: 'an event type, such as model.version.created' }),
    filter: Type.Optional(Type.Record(Type.String(), SCALAR, { description: 'payload fields that must equal these values, such as model: diabetes' })),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the run’s params, may use ${{ event.payload.version }}' })),
  },
  { additionalProperties: false },
);

export const PipelineFileSchema = Type.Object(
  {
    name: NAME,
    description: Type.Optional(Type.String()),
    params: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][\\w-]*$' }), Param)),
    on: Type.Optional(Type.Array(Trigger)),
    steps: Type.Record(NAME, Step, { minProperties: 1 }),
  },
  { additionalProperties: false, $id: 'https://fluxops.dev/schemas/pipeline.json', title: 'FluxOps pipeline' },
);

export type PipelineFile = Static<typeof PipelineFileSchema>;
export type StepDefinition = PipelineFile['steps'][string];
export type ParamDefinition = NonNullable<PipelineFile['params']>[string];
export type TriggerDefinition = NonNullable<PipelineFile['on']>[number];

/** Steps that may reuse an earlier run's outputs when their inputs are unchanged (the others act on live state). */
export const CACHEABLE: ReadonlySet<string> = new Set(['train', 'evaluate', 'sweep', 'run']);

/** The published JSON schema of pipeline files (`docs/pipeline.schema.json`), as written by `npm run openapi`. */
export function pipelineSchemaText(): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...JSON.parse(JSON.stringify(PipelineFileSchema)) as object }, null, 2)}\n`;
}
