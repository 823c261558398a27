import type { Silence } from './alert-evaluator.js';
import type { AlertRecord } from './alert-store.js';

/** An alert as the API shows it: its state flattened, times in ms since the epoch. */
export function alertView(a: AlertRecord) {
  const t = (d: Date | undefined): number | null => (d === undefined ? null : d.getTime());
  return {
    alert: a.alert,
    rule: a.rule,
    status: a.status,
    severity: a.severity,
    labels: a.labels,
    value: a.state.lastValue ?? null,
    activeSince: t(a.state.activeSince),
    firingSince: t(a.state.firingSince),
    resolvedAt: t(a.state.resolvedAt),
    lastEvaluated: a.state.lastEvaluated.getTime(),
    silencedBy: a.silencedBy,
  };
}

export type AlertView = ReturnType<typeof alertView>;

/** A silence as the API shows it (times as ISO strings). */
export function silenceView(s: Silence) {
  return { ...s, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() };
}

export type SilenceView = ReturnType<typeof silenceView>;
