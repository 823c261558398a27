import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { FluxError, parseDuration } from '../../core/index.js';

/*
 * An alert rule is Prometheus's alerting rule reduced to what FluxOps measures: instead of a PromQL
 * expression it names one of the platform's metrics (a selector), and the platform's MetricSource
 * supplies its current value. The schemas double as the HTTP contract, so each carries a
 * description, which is also what a refusal says the value must be.
 */

const NAME = Type.String({ pattern: '^[A-Za-z0-9][\\w.-]{0,99}$', description: 'a name of 1–100 letters, digits, _, . or -, starting with a letter or digit' });
const REF = Type.String({ minLength: 1, maxLength: 200, description: 'a non-empty name' });
const DURATION_PATTERN = '^\\s*\\d+\\s*(ms|s|m|h|d)\\s*$';
const DURATION = Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 30s, 5m, 1h or 1d' });
/** Prometheus's label names, so labels can be handed on to Alertmanager-style tools unchanged. */
const LABEL_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

const endpointWindow = { endpoint: REF, window: DURATION };

export const MetricSelectorSchemas = {
  error_rate: Type.Object({ kind: Type.Literal('error_rate'), ...endpointWindow }, { additionalProperties: false, description: 'share of requests that failed over the window' }),
  latency: Type.Object(
    {
      kind: Type.Literal('latency'),
      endpoint: REF,
      quantile: Type.Union([Type.Literal(0.5), Type.Literal(0.95), Type.Literal(0.99)], { description: 'one of 0.5, 0.95, 0.99' }),
      window: DURATION,
    },
    { additionalProperties: false, description: 'latency quantile in seconds over the window' },
  ),
  request_rate: Type.Object({ kind: Type.Literal('request_rate'), ...endpointWindow }, { additionalProperties: false, description: "requests per second over the window (a volume drop is op '<')" }),
  drift: Type.Object(
    {
      kind: Type.Union([Type.Literal('drift_share'), Type.Literal('dataset_drift'), Type.Literal('drift_score')]),
      monitor: REF,
      column: Type.Optional(REF),
    },
    { additionalProperties: false, description: "the drift monitor's latest share of drifted columns, dataset drift (0 or 1), or a drift score" },
  ),
  estimated_performance: Type.Object(
    {
      kind: Type.Literal('estimated_performance'),
      monitor: REF,
      metric: Type.Union([Type.Literal('accuracy'), Type.Literal('f1'), Type.Literal('roc_auc')], { description: 'one of accuracy, f1, roc_auc' }),
    },
    { additionalProperties: false, description: "the performance monitor's latest estimate" },
  ),
  synthetic_failures: Type.Object({ kind: Type.Literal('synthetic_failures'), check: REF }, { additionalProperties: false, description: 'failures of a synthetic check in its latest runs' }),
} as const;

export const MetricSelectorSchema = Type.Union(Object.values(MetricSelectorSchemas), { description: 'the platform metric a rule watches' });
export type MetricSelector = Static<typeof MetricSelectorSchema>;
export type MetricKind = MetricSelector['kind'];

export const METRIC_KINDS = ['error_rate', 'latency', 'request_rate', 'drift_share', 'dataset_drift', 'drift_score', 'estimated_performance', 'synthetic_failures'] as const satisfies readonly MetricKind[];
export const ALERT_OPS = ['>', '>=', '<', '<='] as const;
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertOp = (typeof ALERT_OPS)[number];
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

const literals = <T extends string>(values: readonly T[], description: string) => Type.Union(values.map((v) => Type.Literal(v)), { description });

export const AlertRuleSchema = Type.Object(
  {
    name: NAME,
    metric: MetricSelectorSchema,
    op: literals(ALERT_OPS, 'one of >, >=, <, <='),
    threshold: Type.Number({ description: 'a finite number' }),
    for: Type.String({ pattern: DURATION_PATTERN, description: 'a duration such as 0s, 5m or 1h (how long the condition must hold before the alert fires)' }),
    severity: literals(ALERT_SEVERITIES, 'one of critical, warning, info'),
    summary: Type.Optional(Type.String({ maxLength: 2000, description: 'a text of at most 2000 characters' })),
    labels: Type.Optional(
      Type.Record(Type.String({ pattern: LABEL_NAME }), Type.String({ maxLength: 1000, description: 'a string of at most 1000 characters' }), {
        additionalProperties: false,
        description: 'a map of label names (letters, digits and _, not starting with a digit) to strings',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AlertRule = Static<typeof AlertRuleSchema>;

/** Where a rule's value comes from: implemented by the platform over its inference log, monitors and checks. */
export interface MetricSource {
  /** The selector's value as of `now`; undefined when there is no data (no requests in the window, no monitor run yet). */
  value(selector: MetricSelector, now: Date): Promise<number | undefined>;
}

const checkRule = TypeCompiler.Compile(AlertRuleSchema);
const checkSelector: Record<MetricKind, TypeCheck<TSchema>> = (() => {
  const s = MetricSelectorSchemas;
  const drift = TypeCompiler.Compile(s.drift);
  return {
    error_rate: TypeCompiler.Compile(s.error_rate),
    latency: TypeCompiler.Compile(s.latency),
    request_rate: TypeCompiler.Compile(s.request_rate),
    drift_share: drift,
    dataset_drift: drift,
    drift_score: drift,
    estimated_performance: TypeCompiler.Compile(s.estimated_performance),
    synthetic_failures: TypeCompiler.Compile(s.synthetic_failures),
  };
})();

/** One refusal of a definition: the field (dotted path) and what is wrong with it. */
export interface DefinitionProblem {
  field: string;
  message: string;
}

/** Validates an alert rule (from JSON or YAML), or throws INVALID_PARAMETER_VALUE naming every offending field. */
export function parseAlertRule(input: unknown): AlertRule {
  if (!isPlainObject(input)) throw invalidDefinition('alert rule', [{ field: '', message: `an alert rule must be an object; got ${show(input)}` }]);
  // The metric union is checked on its own, by its kind, so that a wrong quantile is reported as
  // such and not as "the metric matches none of eight shapes".
  const problems = schemaProblems(checkRule, input, '').filter((p) => p.field !== 'metric' && !p.field.startsWith('metric.'));
  problems.push(...selectorProblems(input.metric, 'metric'));
  if (problems.length === 0) {
    const rule = input as AlertRule;
    durationProblem(rule.for, 'for', 0, problems);
    if ('window' in rule.metric) durationProblem(rule.metric.window, 'metric.window', 1, problems);
  }
  const name = typeof input.name === 'string' ? `alert rule '${input.name}'` : 'alert rule';
  if (problems.length > 0) throw invalidDefinition(name, problems);
  return structuredClone(input as AlertRule);
}

/** Validates a metric selector alone (for example one given on a query string); `field` prefixes the problems. */
export function parseMetricSelector(input: unknown, field = 'metric'): MetricSelector {
  const problems = selectorProblems(input, field);
  if (problems.length === 0 && isPlainObject(input) && typeof input.window === 'string') durationProblem(input.window, `${field}.window`, 1, problems);
  if (problems.length > 0) throw invalidDefinition('metric selector', problems);
  return structuredClone(input as MetricSelector);
}

/**
 * The labels that identify what a selector watches (`metric`, and `endpoint`, `monitor`, `check`,
 * `column`, `quantile`, `window` where present). Merged under a rule's own labels they let silences
 * and notifications name the endpoint without knowing the selector's shape.
 */
export function selectorLabels(selector: MetricSelector): Record<string, string> {
  const labels: Record<string, string> = { metric: selector.kind };
  for (const [k, v] of Object.entries(selector)) if (k !== 'kind' && v !== undefined) labels[k === 'metric' ? 'performance_metric' : k] = String(v);
  return labels;
}

function selectorProblems(input: unknown, field: string): DefinitionProblem[] {
  if (input === undefined) return [{ field, message: `${field} is required` }];
  if (!isPlainObject(input)) return [{ field, message: `${field} must be an object with a kind; got ${show(input)}` }];
  const kind = input.kind;
  if (kind === undefined) return [{ field: `${field}.kind`, message: `${field}.kind is required (one of ${METRIC_KINDS.join(', ')})` }];
  if (typeof kind !== 'string' || !(METRIC_KINDS as readonly string[]).includes(kind)) {
    return [{ field: `${field}.kind`, message: `${field}.kind must be one of ${METRIC_KINDS.join(', ')}; got ${show(kind)}` }];
  }
  return schemaProblems(checkSelector[kind as MetricKind], input, field);
}

function durationProblem(value: string, field: string, minMs: number, problems: DefinitionProblem[]): void {
  try {
    if (parseDuration(value, field) < minMs) problems.push({ field, message: `${field} must be longer than 0; got ${show(value)}` });
  } catch (e) {
    problems.push({ field, message: e instanceof Error ? e.message : String(e) });
  }
}

/** The first problem of each field, in words: TypeBox's own messages ("Expected union value") say too little. */
export function schemaProblems(check: TypeCheck<TSchema>, input: unknown, prefix: string): DefinitionProblem[] {
  const seen = new Map<string, DefinitionProblem>();
  for (const e of check.Errors(input)) {
    const field = joinField(prefix, e.path);
    if (!seen.has(field)) seen.set(field, { field, message: describe(e, field) });
  }
  return [...seen.values()];
}

function describe(e: ValueError, field: string): string {
  const schema = e.schema as { description?: string; anyOf?: Array<{ const?: unknown }>; patternProperties?: unknown };
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${field} is required`;
    case ValueErrorType.ObjectAdditionalProperties:
      return schema.patternProperties !== undefined ? `${field}: '${lastSegment(field)}' is not a valid label name (letters, digits and _, not starting with a digit)` : `${field} is not a known field`;
    default:
      // A key present with the value undefined (only JavaScript callers can write one) is a missing one.
      if (e.value === undefined) return `${field} is required`;
      if (schema.description !== undefined) return `${field} must be ${schema.description}; got ${show(e.value)}`;
      if (schema.anyOf?.every((s) => s.const !== undefined)) return `${field} must be one of ${schema.anyOf.map((s) => String(s.const)).join(', ')}; got ${show(e.value)}`;
      return `${field}: ${e.message.toLowerCase()}; got ${show(e.value)}`;
  }
}

/** Definitions refused: one FluxError whose message lists every problem; `details.field` is the first field. */
export function invalidDefinition(what: string, problems: DefinitionProblem[]): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `invalid ${what}: ${problems.map((p) => p.message).join('; ')}`, { field: problems[0]?.field ?? '', problems });
}

function joinField(prefix: string, pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [...(prefix === '' ? [] : [prefix]), ...parts].join('.');
}

const lastSegment = (field: string) => field.slice(field.lastIndexOf('.') + 1);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as it appears in a refusal, cut short so a pasted document does not flood the message. */
export function show(v: unknown): string {
  let s: string;
  if (v === undefined) s = 'nothing';
  else if (typeof v === 'number' || typeof v === 'bigint') s = String(v);
  else if (typeof v === 'function' || typeof v === 'symbol') s = `a ${typeof v}`;
  else {
    try {
      s = JSON.stringify(v);
    } catch {
      s = 'an object that cannot be shown';
    }
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
