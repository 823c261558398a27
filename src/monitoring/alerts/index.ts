export {
  ALERT_OPS,
  ALERT_SEVERITIES,
  AlertRuleSchema,
  METRIC_KINDS,
  MetricSelectorSchema,
  MetricSelectorSchemas,
  parseAlertRule,
  parseMetricSelector,
  selectorLabels,
  type AlertOp,
  type AlertRule,
  type AlertSeverity,
  type DefinitionProblem,
  type MetricKind,
  type MetricSelector,
  type MetricSource,
} from './alert-rule.js';
export {
  SilenceInputSchema,
  conditionHolds,
  isSilenced,
  matchingSilence,
  notificationFor,
  parseSilence,
  step,
  type AlertNotification,
  type AlertState,
  type AlertStatus,
  type Silence,
  type SilenceInput,
  type StepResult,
} from './alert-evaluator.js';
export { DEFAULT_BURN_WINDOWS, SloSchema, burnRate, errorBudgetRemaining, evaluateSlo, parseSlo, type BurnRateResult, type BurnWindowPair, type Slo } from './slo.js';
export { DEFAULT_EMAIL_TIMEOUT_MS, EmailNotifier, alertEmail, alertSubject, formatAlertValue, slackText, type EmailNotifierOptions } from './email-notifier.js';
export { AlertService, type AlertServiceOptions, type CheckCaller, type CheckInput, type RuleInput, type SloInput } from './alert-service.js';
export type { AlertDefinition, AlertRecord, AlertStore, SyntheticCheck } from './alert-store.js';
export { KyselyAlertStore } from './kysely-alert-store.js';
export { PlatformMetricSource, histogramQuantile } from './platform-metrics.js';
export { alertView, silenceView, type AlertView, type SilenceView } from './alert-views.js';
