import { randomUUID } from 'node:crypto';
import { FluxError, parseDuration, periodic, type Component } from '../../core/index.js';
import type { EndpointService } from '../../endpoints/index.js';
import type { NewEvent } from '../../events/index.js';
import type { Logger } from '../../logging/index.js';
import { notificationFor, parseSilence, matchingSilence, step, type AlertNotification, type AlertState, type Silence, type StepResult } from './alert-evaluator.js';
import { parseAlertRule, selectorLabels, type AlertRule } from './alert-rule.js';
import type { AlertDefinition, AlertRecord, AlertStore, SyntheticCheck } from './alert-store.js';
import { EmailNotifier } from './email-notifier.js';
import type { PlatformMetricSource } from './platform-metrics.js';
import { DEFAULT_BURN_WINDOWS, evaluateSlo, parseSlo, type Slo } from './slo.js';

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

export interface AlertServiceOptions {
  /** SMTP server alerts are mailed through (`smtp://user:pass@host:port`, `smtps://…`); none: no email. */
  smtpUrl?: string | undefined;
  /** The From address of alert mail (default `fluxops@localhost`). */
  smtpFrom?: string | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  clock?: () => number;
}

export interface RuleInput {
  rule: unknown;
  every?: unknown;
  notify?: unknown;
}

export interface SloInput {
  slo: unknown;
  every?: unknown;
  notify?: unknown;
}

export interface CheckInput {
  name: unknown;
  endpoint: unknown;
  body: unknown;
  expectStatus?: unknown;
  every?: unknown;
  timeout?: unknown;
  alertAfter?: unknown;
  notify?: unknown;
}

/** How a synthetic check's request is sent (the server's own router, in process). */
export type CheckCaller = (endpoint: string, body: unknown, timeoutMs: number) => Promise<{ status: number; error: string | null }>;

/**
 * Alert rules and SLOs, their evaluation (one process per due rule), silences and synthetic
 * checks. A transition (firing, resolved) of an alert that no silence mutes is written with its
 * `alert.firing` / `alert.resolved` event in one transaction — webhooks subscribed to `alert.*`
 * receive it signed, in FluxOps' or Slack's format — and mailed to the rule's addresses when an
 * SMTP server is configured.
 */
export class AlertService {
  private readonly now: () => number;
  private readonly mailer: ((to: string[]) => EmailNotifier) | undefined;

  constructor(
    private readonly store: AlertStore,
    private readonly source: PlatformMetricSource,
    private readonly endpoints: EndpointService,
    private readonly opts: AlertServiceOptions = {},
  ) {
    this.now = opts.clock ?? Date.now;
    const url = opts.smtpUrl;
    this.mailer = url === undefined || url === '' ? undefined : (to) => new EmailNotifier({ url, from: opts.smtpFrom ?? 'fluxops@localhost', to });
  }

  async createRule(input: RuleInput): Promise<AlertDefinition> {
    const rule = parseAlertRule(input.rule);
    if (!NAME.test(rule.name)) throw bad(`rule.name must be 1 to 100 lower-case letters, digits, '.', '_' and '-', got ${JSON.stringify(rule.name)}`, 'rule.name');
    return this.createDefinition({ kind: 'rule', rule, name: rule.name }, input.every, input.notify, null);
  }

  async createSlo(input: SloInput): Promise<AlertDefinition> {
    const slo = parseSlo(input.slo);
    await this.endpoints.getEndpoint(slo.endpoint);
    return this.createDefinition({ kind: 'slo', slo, name: slo.name }, input.every, input.notify, null);
  }

  async listDefinitions(): Promise<AlertDefinition[]> {
    return this.store.listDefinitions();
  }

  async getDefinition(name: unknown): Promise<AlertDefinition> {
    const d = typeof name === 'string' ? await this.store.getDefinition(name) : undefined;
    if (d === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `alert rule ${JSON.stringify(name)} does not exist`);
    return d;
  }

  async deleteDefinition(name: unknown): Promise<void> {
    const d = await this.getDefinition(name);
    if (d.owner !== null) throw new FluxError('INVALID_STATE', `alert rule '${d.name}' belongs to synthetic check '${d.owner}'; delete the check instead`);
    await this.store.deleteDefinition(d.name);
  }

  /** Every alert's state (firing, pending, inactive), firing first. */
  async listAlerts(q: { status?: string | undefined } = {}): Promise<AlertRecord[]> {
    const order = { firing: 0, pending: 1, inactive: 2 } as const;
    const all = (await this.store.listStates()).filter((a) => q.status === undefined || a.status === q.status);
    return all.sort((a, b) => order[a.status] - order[b.status] || a.alert.localeCompare(b.alert));
  }

  async createSilence(input: { matchers?: unknown; startsAt?: unknown; endsAt?: unknown; duration?: unknown; comment?: unknown }, createdBy: string): Promise<Silence> {
    const now = this.now();
    const startsAt = input.startsAt ?? new Date(now).toISOString();
    const startMs = typeof startsAt === 'string' ? Date.parse(startsAt) : NaN;
    const endsAt = input.endsAt ?? (input.duration !== undefined && Number.isFinite(startMs) ? new Date(startMs + parseDuration(input.duration, 'duration')).toISOString() : undefined);
    if (endsAt === undefined) throw bad('give endsAt or a duration (such as 2h) for the silence', 'endsAt');
    const s = parseSilence({ id: `sil-${randomUUID().slice(0, 8)}`, matchers: input.matchers ?? {}, startsAt, endsAt, comment: input.comment ?? '', createdBy });
    await this.store.createSilence(s);
    return s;
  }

  async listSilences(q: { active?: boolean } = {}): Promise<Silence[]> {
    const now = this.now();
    const all = await this.store.listSilences();
    return q.active === true ? all.filter((s) => s.startsAt.getTime() <= now && now < s.endsAt.getTime()) : all;
  }

  async expireSilence(id: unknown): Promise<void> {
    if (typeof id !== 'string' || !(await this.store.expireSilence(id, new Date(this.now())))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `silence ${JSON.stringify(id)} does not exist`);
  }

  async createCheck(input: CheckInput): Promise<SyntheticCheck> {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw bad(`name must be 1 to 100 lower-case letters, digits, '.', '_' and '-', got ${JSON.stringify(input.name)}`, 'name');
    const endpoint = (await this.endpoints.getEndpoint(input.endpoint)).name;
    if (typeof input.body !== 'object' || input.body === null || Array.isArray(input.body)) throw bad('body must be the saved request: a predict body such as {"inputs": [{…}]}', 'body');
    const expectStatus = input.expectStatus ?? 200;
    if (typeof expectStatus !== 'number' || !Number.isInteger(expectStatus) || expectStatus < 100 || expectStatus > 599) throw bad(`expectStatus must be an HTTP status, got ${JSON.stringify(expectStatus)}`, 'expectStatus');
    const everyMs = parseDuration(input.every ?? '5m', 'every');
    if (everyMs < 1000) throw bad('every must be at least 1s', 'every');
    const timeoutMs = parseDuration(input.timeout ?? '10s', 'timeout');
    if (timeoutMs < 1 || timeoutMs > 300_000) throw bad('timeout must be from 1ms to 5m', 'timeout');
    const alertAfter = input.alertAfter ?? 3;
    if (typeof alertAfter !== 'number' || !Number.isInteger(alertAfter) || alertAfter < 1 || alertAfter > 1000) throw bad(`alertAfter must be a whole number of consecutive failures from 1, got ${JSON.stringify(alertAfter)}`, 'alertAfter');
    const now = this.now();
    const check: SyntheticCheck = {
      name: input.name,
      endpoint,
      body: input.body,
      expectStatus,
      everyMs,
      timeoutMs,
      alertAfter,
      consecutiveFailures: 0,
      lastStatus: null,
      lastError: null,
      lastMs: null,
      lastRunAt: null,
      runs: 0,
      failures: 0,
      enabled: true,
      nextRunAt: now,
      createdAt: now,
      updatedAt: now,
    };
    const rule: AlertRule = {
      name: `synthetic-${input.name}`,
      metric: { kind: 'synthetic_failures', check: input.name },
      op: '>=',
      threshold: alertAfter,
      for: '0s',
      severity: 'critical',
      summary: `synthetic check ${input.name} on ${endpoint} failed ${alertAfter} times in a row`,
      labels: { endpoint },
    };
    const notify = notifyOf(input.notify);
    await this.store.createCheck(check);
    await this.store.createDefinition({ kind: 'rule', rule, name: rule.name, notify, everyMs, enabled: true, nextRunAt: now, owner: check.name, createdAt: now, updatedAt: now }).catch(async (e: unknown) => {
      await this.store.deleteCheck(check.name);
      throw e;
    });
    return check;
  }

  listChecks(): Promise<SyntheticCheck[]> {
    return this.store.listChecks();
  }

  async deleteCheck(name: unknown): Promise<void> {
    if (typeof name !== 'string' || !(await this.store.deleteCheck(name))) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `synthetic check ${JSON.stringify(name)} does not exist`);
    await this.store.deleteDefinition(`synthetic-${name}`);
  }

  /** Evaluates every due rule and SLO now (the evaluator's tick; tests call it). */
  async evaluateDue(): Promise<number> {
    const due = await this.store.claimDefinitions(this.now());
    for (const d of due) {
      try {
        await this.evaluate(d);
      } catch (e) {
        this.opts.log?.warn({ rule: d.name, err: (e as Error).message }, 'alert rule not evaluated');
      }
    }
    return due.length;
  }

  /** Runs every due synthetic check through `call`; its rule is evaluated at once after. */
  async runDueChecks(call: CheckCaller): Promise<void> {
    for (const c of await this.store.claimChecks(this.now())) {
      const t0 = performance.now();
      let status: number | null = null;
      let error: string | null = null;
      try {
        const r = await call(c.endpoint, c.body, c.timeoutMs);
        status = r.status;
        error = r.error;
      } catch (e) {
        error = (e as Error).message;
      }
      const ok = status === c.expectStatus;
      if (!ok && error === null) error = `answered ${status ?? 'nothing'}, expected ${c.expectStatus}`;
      await this.store.recordCheck(c.name, { ok, status, error: ok ? null : error, ms: performance.now() - t0, at: this.now() });
      await this.store.dueAt(`synthetic-${c.name}`, this.now());
    }
  }

  /** The evaluator component: every `tickMs`, the due rules and SLOs (and, given a caller, the due synthetic checks). */
  component(tickMs: number, call?: CheckCaller): Component {
    return periodic(
      call === undefined ? 'alert-evaluator' : 'alert-evaluator+checks',
      tickMs,
      async () => {
        if (call !== undefined) await this.runDueChecks(call);
        await this.evaluateDue();
      },
      { onError: (e) => this.opts.log?.warn({ err: (e as Error).message }, 'alert evaluation failed') },
    );
  }

  private async createDefinition(d: { kind: 'rule'; rule: AlertRule; name: string } | { kind: 'slo'; slo: Slo; name: string }, every: unknown, notify: unknown, owner: string | null): Promise<AlertDefinition> {
    const everyMs = parseDuration(every ?? '15s', 'every');
    if (everyMs < 1000) throw bad('every must be at least 1s', 'every');
    const now = this.now();
    const def = { ...d, notify: notifyOf(notify), everyMs, enabled: true, nextRunAt: now, owner, createdAt: now, updatedAt: now } as AlertDefinition;
    await this.store.createDefinition(def);
    return def;
  }

  private async evaluate(d: AlertDefinition): Promise<void> {
    const now = new Date(this.now());
    if (d.kind === 'rule') {
      const value = await this.source.value(d.rule.metric, now);
      await this.transition(d, d.rule.name, d.rule, value, { ...selectorLabels(d.rule.metric), ...d.rule.labels }, now);
      return;
    }
    const slo = d.slo;
    const windows = [...new Set(DEFAULT_BURN_WINDOWS.flatMap((p) => [p.long, p.short]))];
    const ratios = new Map<string, number | undefined>();
    for (const w of windows) ratios.set(w, await this.source.badRatio(slo, w, now));
    for (const pair of evaluateSlo(slo, (w) => ratios.get(w))) {
      const rule: AlertRule = {
        name: slo.name,
        metric: { kind: slo.kind === 'latency' ? 'latency' : 'error_rate', endpoint: slo.endpoint, ...(slo.kind === 'latency' ? { quantile: 0.95 } : {}), window: pair.long } as AlertRule['metric'],
        op: '>',
        threshold: pair.factor,
        for: '0s',
        severity: pair.severity,
        summary: `${slo.kind} SLO ${slo.name} (${slo.objective * 100} %) on ${slo.endpoint} burns its error budget ${pair.factor}× too fast over ${pair.long} and ${pair.short}`,
      };
      // The alert's value is the long window's burn rate; it holds when both windows burn faster than the factor.
      const value = pair.firing ? (pair.burnLong ?? 0) : Math.min(pair.burnLong ?? 0, pair.factor);
      await this.transition(d, `${slo.name}:${pair.long}/${pair.short}`, rule, value, { endpoint: slo.endpoint, slo: slo.name, window: `${pair.long}/${pair.short}` }, now);
    }
  }

  private async transition(d: AlertDefinition, alert: string, rule: AlertRule, value: number | undefined, labels: Record<string, string>, now: Date): Promise<void> {
    const before = await this.store.getState(alert);
    const result: StepResult = step(before?.state, value, rule, now);
    // An evaluation that changes nothing writes nothing (a first one is written, so the alert is listed).
    if (before !== undefined && result.transition === undefined && sameState(before.state, result.state)) return;
    let silencedBy = before?.silencedBy ?? null;
    let notify: AlertNotification | undefined;
    if (result.transition !== undefined) {
      silencedBy = matchingSilence(d.name, labels, await this.store.listSilences(), now)?.id ?? null;
      if (silencedBy === null) notify = notificationFor(rule, result, labels);
    }
    const record: AlertRecord = { alert, rule: d.name, status: result.state.status, severity: rule.severity, labels, state: result.state, silencedBy, updatedAt: now.getTime() };
    await this.store.putState(record, notify === undefined ? [] : [eventOf(alert, notify)], null);
    if (notify !== undefined && d.notify.email.length > 0) await this.mail(d, notify);
  }

  private async mail(d: AlertDefinition, n: AlertNotification): Promise<void> {
    if (this.mailer === undefined) {
      this.opts.log?.warn({ rule: d.name }, 'alert has email recipients but no SMTP server is configured (FLUXOPS_SMTP_URL)');
      return;
    }
    const m = this.mailer(d.notify.email);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await m.send(n);
          return;
        } catch (e) {
          if (attempt >= 3) {
            this.opts.log?.warn({ rule: d.name, err: (e as Error).message }, 'alert email not sent');
            return;
          }
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    } finally {
      m.close();
    }
  }
}

function eventOf(alert: string, n: AlertNotification): NewEvent {
  const base = { alert, rule: n.rule, severity: n.severity, value: n.value ?? null, threshold: n.threshold, summary: n.summary, labels: n.labels, starts_at: n.startsAt.getTime() };
  const subject = { endpoint: n.labels.endpoint, actor: null };
  return n.state === 'firing' ? { type: 'alert.firing', payload: base, ...subject } : { type: 'alert.resolved', payload: { ...base, ends_at: n.endsAt?.getTime() ?? Date.now() }, ...subject };
}

function sameState(a: AlertState, b: AlertState): boolean {
  return a.status === b.status && a.lastValue === b.lastValue;
}

function notifyOf(v: unknown): { email: string[] } {
  if (v === undefined || v === null) return { email: [] };
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('notify must be an object {email: [addresses]}', 'notify');
  const email = (v as { email?: unknown }).email ?? [];
  const list = typeof email === 'string' ? email.split(',').map((s) => s.trim()).filter((s) => s !== '') : email;
  if (!Array.isArray(list) || list.some((e) => typeof e !== 'string' || !EMAIL.test(e))) throw bad(`notify.email must be a list of email addresses, got ${JSON.stringify(email)}`, 'notify.email');
  return { email: list as string[] };
}

function bad(message: string, field: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message, { field });
}
