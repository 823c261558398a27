import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parseDuration } from '../../core/index.js';
import { invalidDefinition, isPlainObject, schemaProblems, show, type AlertSeverity } from './alert-rule.js';

/*
 * Service-level objectives alerted on by burn rate, as the Google SRE workbook's "multiwindow,
 * multi-burn-rate alerts" (chapter 5, alternative 6) do: the burn rate is how many times faster than
 * allowed the error budget is being spent, and each pair of windows fires only when its long window
 * AND its short window both burn faster than the pair's factor. The long window makes the alert
 * significant, the short one makes it stop soon after the problem does and keeps an old spike from
 * firing alone.
 */

export const SloSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][\\w.-]{0,99}$', description: 'a name of 1–100 letters, digits, _, . or -, starting with a letter or digit' }),
    endpoint: Type.String({ minLength: 1, maxLength: 200, description: 'a non-empty endpoint name' }),
    kind: Type.Union([Type.Literal('availability'), Type.Literal('latency')], { description: 'one of availability, latency' }),
    objective: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'a ratio strictly between 0 and 1, such as 0.999' }),
    latencyThresholdSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'a number of seconds greater than 0' })),
  },
  { additionalProperties: false },
);
/**
 * An availability SLO counts failed requests as bad; a latency SLO counts requests slower than
 * latencyThresholdSeconds as bad. Either way the platform supplies the bad ratio per window.
 */
export type Slo = Static<typeof SloSchema>;

export interface BurnWindowPair {
  long: string;
  short: string;
  factor: number;
  severity: AlertSeverity;
}

/**
 * The workbook's recommended pairs for a 30-day budget: 14.4 spends 2 % of it in an hour, 6 spends
 * 5 % in six hours (both page), 3 spends 10 % in a day and 1 spends 10 % in three days (tickets).
 */
export const DEFAULT_BURN_WINDOWS: readonly BurnWindowPair[] = Object.freeze([
  { long: '1h', short: '5m', factor: 14.4, severity: 'critical' },
  { long: '6h', short: '30m', factor: 6, severity: 'critical' },
  { long: '1d', short: '2h', factor: 3, severity: 'warning' },
  { long: '3d', short: '6h', factor: 1, severity: 'warning' },
]);

export interface BurnRateResult extends BurnWindowPair {
  /** Burn rate over the long window; undefined when that window had no data. */
  burnLong: number | undefined;
  burnShort: number | undefined;
  /** Both windows burn strictly faster than the factor. No data in either window never fires. */
  firing: boolean;
}

const checkSlo = TypeCompiler.Compile(SloSchema);

/** Validates an SLO definition, or throws INVALID_PARAMETER_VALUE naming every offending field. */
export function parseSlo(input: unknown): Slo {
  if (!isPlainObject(input)) throw invalidDefinition('SLO', [{ field: '', message: `an SLO must be an object; got ${show(input)}` }]);
  const problems = schemaProblems(checkSlo, input, '');
  if (problems.length === 0) {
    const slo = input as Slo;
    if (slo.kind === 'latency' && slo.latencyThresholdSeconds === undefined) problems.push({ field: 'latencyThresholdSeconds', message: 'latencyThresholdSeconds is required for a latency SLO (requests slower than it count as bad)' });
    if (slo.kind === 'availability' && slo.latencyThresholdSeconds !== undefined) problems.push({ field: 'latencyThresholdSeconds', message: 'latencyThresholdSeconds applies only to a latency SLO' });
  }
  const name = typeof input.name === 'string' ? `SLO '${input.name}'` : 'SLO';
  if (problems.length > 0) throw invalidDefinition(name, problems);
  return structuredClone(input as Slo);
}

/** How many times faster than the objective allows the budget is spent: bad ratio / (1 − objective). */
export function burnRate(badRatio: number | undefined, objective: number): number | undefined {
  if (badRatio === undefined || Number.isNaN(badRatio)) return undefined;
  return badRatio / (1 - objective);
}

/**
 * Evaluates every window pair. `badRatio(window)` gives the share of bad events over the window
 * ending now (a duration string of the pairs, e.g. '1h'), or undefined with no traffic; it is asked
 * once per distinct window. Pairs are checked when evaluated, so a custom list with a short window
 * not shorter than its long one is refused.
 */
export function evaluateSlo(slo: Slo, badRatio: (window: string) => number | undefined, windows: readonly BurnWindowPair[] = DEFAULT_BURN_WINDOWS): BurnRateResult[] {
  const cache = new Map<string, number | undefined>();
  const burn = (w: string) => {
    if (!cache.has(w)) cache.set(w, burnRate(badRatio(w), slo.objective));
    return cache.get(w);
  };
  return windows.map((pair, i) => {
    if (parseDuration(pair.short, `windows[${i}].short`) >= parseDuration(pair.long, `windows[${i}].long`)) {
      throw invalidDefinition('burn-rate windows', [{ field: `windows[${i}]`, message: `windows[${i}]: the short window ${pair.short} must be shorter than the long one ${pair.long}` }]);
    }
    const burnLong = burn(pair.long);
    const burnShort = burn(pair.short);
    const firing = burnLong !== undefined && burnShort !== undefined && burnLong > pair.factor && burnShort > pair.factor;
    return { ...pair, burnLong, burnShort, firing };
  });
}

/**
 * The share of the period's error budget still unspent: 1 − bad ratio / (1 − objective). 1 is
 * untouched, 0 spent, and below 0 overspent (−1 is twice the budget), which is kept rather than
 * clamped so a report can say by how much.
 */
export function errorBudgetRemaining(slo: Slo, badRatioOverPeriod: number): number {
  return 1 - badRatioOverPeriod / (1 - slo.objective);
}
