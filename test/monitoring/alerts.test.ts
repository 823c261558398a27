import net, { type AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxError } from '../../src/core/index.js';
import {
  DEFAULT_BURN_WINDOWS,
  EmailNotifier,
  alertSubject,
  errorBudgetRemaining,
  evaluateSlo,
  isSilenced,
  matchingSilence,
  notificationFor,
  parseAlertRule,
  parseSilence,
  parseSlo,
  selectorLabels,
  slackText,
  step,
  type AlertNotification,
  type AlertRule,
  type AlertState,
  type EmailNotifierOptions,
  type Silence,
  type StepResult,
} from '../../src/monitoring/index.js';

const baseRule = {
  name: 'endpoint-errors',
  metric: { kind: 'error_rate', endpoint: 'diabetes', window: '5m' },
  op: '>',
  threshold: 0.05,
  for: '5m',
  severity: 'critical',
  summary: 'More than 5 % of requests to diabetes fail',
  labels: { team: 'ml' },
};

function refusal(fn: () => unknown): FluxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FluxError);
    return e as FluxError;
  }
  throw new Error('expected a refusal');
}

describe('alert rules', () => {
  it('accepts every metric kind', () => {
    const metrics = [
      { kind: 'error_rate', endpoint: 'e', window: '5m' },
      { kind: 'latency', endpoint: 'e', quantile: 0.99, window: '10m' },
      { kind: 'request_rate', endpoint: 'e', window: '1h' },
      { kind: 'drift_share', monitor: 'm' },
      { kind: 'dataset_drift', monitor: 'm' },
      { kind: 'drift_score', monitor: 'm', column: 'bmi' },
      { kind: 'estimated_performance', monitor: 'm', metric: 'roc_auc' },
      { kind: 'synthetic_failures', check: 'smoke' },
    ];
    for (const metric of metrics) expect(parseAlertRule({ ...baseRule, metric }).metric).toEqual(metric);
    const rule = parseAlertRule(baseRule);
    expect(rule).toEqual(baseRule);
    expect(rule).not.toBe(baseRule);
  });

  it.each([
    [{ ...baseRule, name: undefined }, 'name', /name is required/],
    [{ ...baseRule, name: '-bad name' }, 'name', /name must be a name of 1–100/],
    [{ ...baseRule, op: '=>' }, 'op', /op must be one of >, >=, <, <=; got "=>"/],
    [{ ...baseRule, threshold: 'high' }, 'threshold', /threshold must be a finite number; got "high"/],
    [{ ...baseRule, threshold: Infinity }, 'threshold', /threshold must be a finite number; got Infinity/],
    [{ ...baseRule, for: 'five minutes' }, 'for', /for must be a duration/],
    [{ ...baseRule, severity: 'page' }, 'severity', /severity must be one of critical, warning, info; got "page"/],
    [{ ...baseRule, labels: { team: 3 } }, 'labels.team', /labels\.team must be a string/],
    [{ ...baseRule, labels: { '1team': 'x' } }, 'labels.1team', /'1team' is not a valid label name/],
    [{ ...baseRule, treshold: 1 }, 'treshold', /treshold is not a known field/],
    [{ ...baseRule, metric: undefined }, 'metric', /metric is required/],
    [{ ...baseRule, metric: 'error_rate' }, 'metric', /metric must be an object with a kind/],
    [{ ...baseRule, metric: { endpoint: 'e' } }, 'metric.kind', /metric\.kind is required \(one of error_rate, latency/],
    [{ ...baseRule, metric: { kind: 'cpu' } }, 'metric.kind', /metric\.kind must be one of error_rate, .*; got "cpu"/],
    [{ ...baseRule, metric: { kind: 'latency', endpoint: 'e', quantile: 0.9, window: '5m' } }, 'metric.quantile', /metric\.quantile must be one of 0\.5, 0\.95, 0\.99; got 0\.9/],
    [{ ...baseRule, metric: { kind: 'error_rate', window: '5m' } }, 'metric.endpoint', /metric\.endpoint is required/],
    [{ ...baseRule, metric: { kind: 'error_rate', endpoint: 'e', window: '0m' } }, 'metric.window', /metric\.window must be longer than 0/],
    [{ ...baseRule, metric: { kind: 'error_rate', endpoint: 'e', window: 300000 } }, 'metric.window', /metric\.window must be a duration/],
    [{ ...baseRule, metric: { kind: 'estimated_performance', monitor: 'm', metric: 'auc' } }, 'metric.metric', /metric\.metric must be one of accuracy, f1, roc_auc/],
    [{ ...baseRule, metric: { kind: 'synthetic_failures', check: 's', endpoint: 'e' } }, 'metric.endpoint', /metric\.endpoint is not a known field/],
  ])('refuses %j naming %s', (input, field, message) => {
    const e = refusal(() => parseAlertRule(input));
    expect(e.code).toBe('INVALID_PARAMETER_VALUE');
    expect(e.details?.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('lists every problem, and names the rule', () => {
    const e = refusal(() => parseAlertRule({ ...baseRule, op: '!', severity: 'page' }));
    expect(e.message).toMatch(/^invalid alert rule 'endpoint-errors': /);
    expect((e.details?.problems as Array<{ field: string }>).map((p) => p.field)).toEqual(['op', 'severity']);
    expect(refusal(() => parseAlertRule(null)).message).toMatch(/an alert rule must be an object; got null/);
  });

  it('turns a selector into labels', () => {
    expect(selectorLabels({ kind: 'latency', endpoint: 'diabetes', quantile: 0.95, window: '5m' })).toEqual({ metric: 'latency', endpoint: 'diabetes', quantile: '0.95', window: '5m' });
    expect(selectorLabels({ kind: 'estimated_performance', monitor: 'm', metric: 'f1' })).toEqual({ metric: 'estimated_performance', monitor: 'm', performance_metric: 'f1' });
  });
});

describe('the alert state machine', () => {
  const rule = parseAlertRule(baseRule);
  const t0 = Date.parse('2025-06-01T12:00:00Z');
  const at = (minutes: number) => new Date(t0 + minutes * 60_000);

  /** Runs one evaluation a minute over the given values; returns every step's result. */
  function run(values: Array<number | undefined>, r: AlertRule = rule, from?: AlertState): StepResult[] {
    let state = from;
    return values.map((v, i) => {
      const res = step(state, v, r, at(i));
      state = res.state;
      return res;
    });
  }

  it('goes pending, fires once for has elapsed, and resolves when the condition stops', () => {
    const results = run([0.01, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.01, 0.01]);
    expect(results.map((r) => r.state.status)).toEqual(['inactive', 'pending', 'pending', 'pending', 'pending', 'pending', 'firing', 'firing', 'inactive', 'inactive']);
    expect(results.map((r) => r.transition ?? '-')).toEqual(['-', '-', '-', '-', '-', '-', 'firing', '-', 'resolved', '-']);
    const fired = results[6]!.state;
    expect(fired.activeSince).toEqual(at(1));
    expect(fired.firingSince).toEqual(at(6));
    expect(results[7]!.state.lastValue).toBe(0.2);
    const resolved = results[8]!.state;
    expect(resolved).toMatchObject({ status: 'inactive', firingSince: at(6), resolvedAt: at(8), lastValue: 0.01, lastEvaluated: at(8) });
  });

  it('never fires when the condition flaps inside the for-duration', () => {
    const results = run([0.1, 0.1, 0.1, 0.1, 0.01, 0.1, 0.1, 0.1, 0.1, 0.01, 0.1, 0.1]);
    expect(results.every((r) => r.transition === undefined && r.state.status !== 'firing')).toBe(true);
    // Each drop resets the clock: the pending alert restarted at minute 5.
    expect(results[8]!.state.activeSince).toEqual(at(5));
    expect(results[9]!.state).toMatchObject({ status: 'inactive', activeSince: undefined });
  });

  it('treats no data as the condition not holding: a firing alert resolves, a pending one resets', () => {
    const firing = run([0.1, 0.1, 0.1, 0.1, 0.1, 0.1]).at(-1)!;
    expect(firing.transition).toBe('firing');
    const gone = step(firing.state, undefined, rule, at(6));
    expect(gone.transition).toBe('resolved');
    expect(gone.state).toMatchObject({ status: 'inactive', lastValue: undefined, resolvedAt: at(6) });
    expect(step(run([0.1, 0.1]).at(-1)!.state, Number.NaN, rule, at(2)).state.status).toBe('inactive');
  });

  it('fires at once with for 0, honours each operator, and starts a new episode after resolving', () => {
    const now = parseAlertRule({ ...baseRule, for: '0s' });
    expect(step(undefined, 0.06, now, at(0))).toMatchObject({ state: { status: 'firing' }, transition: 'firing' });
    const drop = parseAlertRule({ ...baseRule, metric: { kind: 'request_rate', endpoint: 'diabetes', window: '10m' }, op: '<', threshold: 1, for: '0s' });
    expect(step(undefined, 0.5, drop, at(0)).transition).toBe('firing');
    expect(step(undefined, 1, drop, at(0)).transition).toBeUndefined();
    const atLeast = parseAlertRule({ ...baseRule, op: '>=', for: '0s' });
    expect(step(undefined, 0.05, atLeast, at(0)).transition).toBe('firing');
    const first = run([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01]);
    const again = run([0.1], rule, first.at(-1)!.state)[0]!;
    expect(again.state).toMatchObject({ status: 'pending', activeSince: at(0), firingSince: undefined, resolvedAt: undefined });
  });

  it('builds the notification of a transition', () => {
    const results = run([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01]);
    expect(notificationFor(rule, results[2]!)).toBeUndefined();
    const labels = { ...selectorLabels(rule.metric), ...rule.labels };
    expect(notificationFor(rule, results[5]!, labels, 'https://fluxops.example/alerts/1')).toEqual({
      rule: 'endpoint-errors',
      severity: 'critical',
      state: 'firing',
      value: 0.1,
      threshold: 0.05,
      summary: baseRule.summary,
      labels,
      startsAt: at(5),
      url: 'https://fluxops.example/alerts/1',
    });
    const resolved = notificationFor(rule, results[6]!, labels)!;
    expect(resolved).toMatchObject({ state: 'resolved', value: 0.01, startsAt: at(5), endsAt: at(6) });
    expect(alertSubject(resolved)).toBe('[RESOLVED:critical] endpoint-errors on diabetes');
  });
});

describe('silences', () => {
  const now = new Date('2025-06-01T12:00:00Z');
  const silence = (matchers: Silence['matchers'], startsAt = '2025-06-01T11:00:00Z', endsAt = '2025-06-01T13:00:00Z'): Silence =>
    parseSilence({ id: `s-${JSON.stringify(matchers)}`, matchers, startsAt, endsAt, comment: 'maintenance', createdBy: 'ana' });
  const labels = { endpoint: 'diabetes', team: 'ml', metric: 'error_rate' };

  it('match by rule name, by labels, or both', () => {
    expect(isSilenced('endpoint-errors', labels, [silence({ rule: 'endpoint-errors' })], now)).toBe(true);
    expect(isSilenced('endpoint-errors', labels, [silence({ rule: 'other' })], now)).toBe(false);
    expect(isSilenced('endpoint-errors', labels, [silence({ labels: { endpoint: 'diabetes' } })], now)).toBe(true);
    expect(isSilenced('endpoint-errors', labels, [silence({ labels: { endpoint: 'diabetes', team: 'ops' } })], now)).toBe(false);
    expect(isSilenced('endpoint-errors', labels, [silence({ labels: { region: 'eu' } })], now)).toBe(false);
    expect(isSilenced('endpoint-errors', labels, [silence({ rule: 'endpoint-errors', labels: { team: 'ml' } })], now)).toBe(true);
    expect(isSilenced('endpoint-errors', labels, [silence({ rule: 'other', labels: { team: 'ml' } })], now)).toBe(false);
    const which = [silence({ rule: 'other' }), silence({ labels: { team: 'ml' } })];
    expect(matchingSilence('endpoint-errors', labels, which, now)?.id).toBe(which[1]!.id);
  });

  it('apply from startsAt up to, not including, endsAt', () => {
    const s = [silence({ rule: 'endpoint-errors' }, '2025-06-01T12:00:00Z', '2025-06-01T12:30:00Z')];
    expect(isSilenced('endpoint-errors', labels, s, new Date('2025-06-01T11:59:59.999Z'))).toBe(false);
    expect(isSilenced('endpoint-errors', labels, s, new Date('2025-06-01T12:00:00Z'))).toBe(true);
    expect(isSilenced('endpoint-errors', labels, s, new Date('2025-06-01T12:29:59Z'))).toBe(true);
    expect(isSilenced('endpoint-errors', labels, s, new Date('2025-06-01T12:30:00Z'))).toBe(false);
  });

  it('refuses a silence without matchers, with an inverted period, or a time without zone', () => {
    const base = { id: 's1', matchers: { rule: 'r' }, startsAt: now, endsAt: new Date(now.getTime() + 60_000), comment: 'why', createdBy: 'ana' };
    expect(parseSilence(base).startsAt).toEqual(now);
    expect(refusal(() => parseSilence({ ...base, matchers: {} })).details?.field).toBe('matchers');
    expect(refusal(() => parseSilence({ ...base, matchers: { labels: {} } })).message).toMatch(/would mute every alert/);
    expect(refusal(() => parseSilence({ ...base, endsAt: base.startsAt })).details?.field).toBe('endsAt');
    expect(refusal(() => parseSilence({ ...base, startsAt: '2025-06-01 12:00' })).message).toMatch(/startsAt must be an ISO 8601 time with its zone/);
    expect(refusal(() => parseSilence({ ...base, comment: '' })).details?.field).toBe('comment');
    // One that skipped parseSilence still mutes nothing.
    expect(isSilenced('r', {}, [{ ...parseSilence(base), matchers: {} }], new Date(now.getTime() + 1))).toBe(false);
  });
});

describe('SLO burn rates', () => {
  const slo = parseSlo({ name: 'diabetes-availability', endpoint: 'diabetes', kind: 'availability', objective: 0.999 });
  const firingOf = (ratios: Record<string, number | undefined>) => evaluateSlo(slo, (w) => ratios[w]).map((r) => r.firing);
  const all = (ratio: number) => Object.fromEntries(DEFAULT_BURN_WINDOWS.flatMap((p) => [[p.long, ratio], [p.short, ratio]]));

  it('a steady 1 % error rate against 99.9 % burns at 10: the 6, 3 and 1 pairs fire, the 14.4 pair does not', () => {
    const results = evaluateSlo(slo, (w) => all(0.01)[w]);
    for (const r of results) {
      expect(r.burnLong).toBeCloseTo(10, 9);
      expect(r.burnShort).toBeCloseTo(10, 9);
    }
    expect(results.map((r) => [r.factor, r.severity, r.firing])).toEqual([
      [14.4, 'critical', false],
      [6, 'critical', true],
      [3, 'warning', true],
      [1, 'warning', true],
    ]);
  });

  it('fires a pair only when both its windows agree', () => {
    // A short spike: the 5 minutes burn at 20, the hour only at 2.
    expect(firingOf({ ...all(0), '5m': 0.02, '1h': 0.002 })).toEqual([false, false, false, false]);
    // The reverse: an old incident already over — the long window is high, the short one is clean.
    expect(firingOf({ ...all(0), '1h': 0.02, '5m': 0, '6h': 0.01, '30m': 0 })).toEqual([false, false, false, false]);
    // A fast burn in both windows of the first pair pages.
    expect(firingOf({ ...all(0), '1h': 0.02, '5m': 0.02 })).toEqual([true, false, false, false]);
    // No data in a window never fires its pair.
    expect(firingOf({ ...all(0.01), '2h': undefined })).toEqual([false, true, false, true]);
  });

  it('asks for each window once and refuses a pair whose short window is not shorter', () => {
    const asked: string[] = [];
    evaluateSlo(slo, (w) => {
      asked.push(w);
      return 0;
    });
    expect(asked).toEqual(['1h', '5m', '6h', '30m', '1d', '2h', '3d', '6h'].filter((w, i, a) => a.indexOf(w) === i));
    expect(() => evaluateSlo(slo, () => 0, [{ long: '5m', short: '1h', factor: 2, severity: 'warning' }])).toThrow(/short window 1h must be shorter/);
  });

  it('reports the error budget left, negative when overspent', () => {
    expect(errorBudgetRemaining(slo, 0)).toBe(1);
    expect(errorBudgetRemaining(slo, 0.0005)).toBeCloseTo(0.5, 9);
    expect(errorBudgetRemaining(slo, 0.002)).toBeCloseTo(-1, 9);
  });

  it('validates definitions naming the field', () => {
    expect(parseSlo({ name: 'lat', endpoint: 'e', kind: 'latency', objective: 0.99, latencyThresholdSeconds: 0.3 }).latencyThresholdSeconds).toBe(0.3);
    expect(refusal(() => parseSlo({ name: 'lat', endpoint: 'e', kind: 'latency', objective: 0.99 })).details?.field).toBe('latencyThresholdSeconds');
    expect(refusal(() => parseSlo({ ...slo, objective: 1 })).message).toMatch(/objective must be a ratio strictly between 0 and 1, such as 0\.999; got 1/);
    expect(refusal(() => parseSlo({ ...slo, kind: 'throughput' })).details?.field).toBe('kind');
    expect(refusal(() => parseSlo({ ...slo, latencyThresholdSeconds: 1 })).message).toMatch(/applies only to a latency SLO/);
  });
});

describe('Slack text', () => {
  it('is a Slack message naming the rule, state and value, with markup escaped', () => {
    const n: AlertNotification = { rule: 'endpoint-errors', severity: 'warning', state: 'firing', value: 0.0712345, threshold: 0.05, summary: 'errors <@here> & more', labels: { endpoint: 'diabetes' }, startsAt: new Date('2025-06-01T12:00:00Z'), url: 'https://fluxops.example/a?x=1' };
    const m = slackText(n);
    expect(m.text).toContain('*[FIRING:warning]* `endpoint-errors` on `diabetes`');
    expect(m.text).toContain('errors &lt;@here&gt; &amp; more');
    expect(m.text).toContain('value 0.07123, threshold 0.05');
    expect(m.blocks?.[1]).toMatchObject({ type: 'context' });
    expect(JSON.stringify(m.blocks)).toContain('<https://fluxops.example/a?x=1|open in FluxOps>');
  });
});

interface Received {
  session: { from: string; to: string[]; user: unknown };
  raw: string;
}

/** Undoes quoted-printable (soft breaks and =XX), which nodemailer uses for long text lines. */
const unQp = (s: string) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('EmailNotifier against a real SMTP server', () => {
  const PASSWORD = 's3cr3t-p@ss:word';
  const received: Received[] = [];
  let smtp: SMTPServer;
  let tlsSmtp: SMTPServer;
  let port: number;
  let tlsPort: number;
  const url = (pass = PASSWORD, p = port) => `smtp://alerts:${encodeURIComponent(pass)}@127.0.0.1:${p}`;

  function startServer(starttls: boolean): SMTPServer {
    return new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: starttls ? [] : ['STARTTLS'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'alerts' && auth.password === PASSWORD) cb(null, { user: 'alerts' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session: SMTPServerSession, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          received.push({ session: { from, to: session.envelope.rcptTo.map((r) => r.address), user: session.user }, raw: Buffer.concat(chunks).toString('utf8') });
          cb();
        });
      },
    });
  }

  beforeAll(async () => {
    smtp = startServer(false);
    tlsSmtp = startServer(true);
    port = await listen(smtp.server);
    tlsPort = await listen(tlsSmtp.server);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await new Promise<void>((resolve) => tlsSmtp.close(() => resolve()));
  });

  const firing: AlertNotification = {
    rule: 'endpoint-errors',
    severity: 'critical',
    state: 'firing',
    value: 0.0712,
    threshold: 0.05,
    summary: 'More than 5 % of requests to diabetes fail',
    labels: { endpoint: 'diabetes', team: 'ml' },
    startsAt: new Date('2025-06-01T12:06:00Z'),
    url: 'https://fluxops.example/alerts/endpoint-errors',
  };

  it('sends a firing then a resolved message, authenticated, with subject, from, to and body', async () => {
    received.length = 0;
    const notifier = new EmailNotifier({ url: url(), from: 'FluxOps <alerts@fluxops.example>', to: 'oncall@example.com, ml-team@example.com', timeoutMs: 5000 });
    await notifier.verify();
    await notifier.send(firing);
    await notifier.send({ ...firing, state: 'resolved', value: 0.01, endsAt: new Date('2025-06-01T12:20:00Z') });
    expect(received).toHaveLength(2);
    const [a, b] = received as [Received, Received];
    expect(a.session).toEqual({ from: 'alerts@fluxops.example', to: ['oncall@example.com', 'ml-team@example.com'], user: 'alerts' });
    expect(a.raw).toMatch(/^Subject: \[FIRING:critical\] endpoint-errors on diabetes\r?$/m);
    expect(a.raw).toMatch(/^From: FluxOps <alerts@fluxops\.example>\r?$/m);
    expect(a.raw).toMatch(/^To: oncall@example\.com, ml-team@example\.com\r?$/m);
    const bodyA = unQp(a.raw);
    expect(bodyA).toContain('Content-Type: text/plain');
    expect(bodyA).toContain('Content-Type: text/html');
    for (const s of ['endpoint-errors', 'firing', '0.0712', '0.05', 'team=ml', 'More than 5 % of requests', 'https://fluxops.example/alerts/endpoint-errors']) expect(bodyA).toContain(s);
    expect(b.raw).toMatch(/^Subject: \[RESOLVED:critical\] endpoint-errors on diabetes\r?$/m);
    const bodyB = unQp(b.raw);
    for (const s of ['resolved', '0.01', '2025-06-01T12:20:00.000Z']) expect(bodyB).toContain(s);
    expect(a.raw).not.toContain(PASSWORD);
  });

  it('upgrades with STARTTLS when required', async () => {
    received.length = 0;
    const notifier = new EmailNotifier({ url: url(PASSWORD, tlsPort), from: 'alerts@fluxops.example', to: ['oncall@example.com'], requireTls: true, rejectUnauthorized: false, timeoutMs: 5000 });
    await notifier.send(firing);
    expect(received).toHaveLength(1);
    const plain = new EmailNotifier({ url: url(), from: 'alerts@fluxops.example', to: ['oncall@example.com'], requireTls: true, timeoutMs: 5000 });
    await expect(plain.send(firing)).rejects.toThrow(/STARTTLS|TLS/i);
  });

  it('rejects a wrong password without showing it', async () => {
    const wrong = 'Wr0ng-Secret!';
    const notifier = new EmailNotifier({ url: url(wrong), from: 'alerts@fluxops.example', to: 'oncall@example.com', timeoutMs: 5000 });
    const e = await notifier.send(firing).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(FluxError);
    const err = e as FluxError;
    expect(err.code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(err.message).toMatch(/smtp:\/\/alerts:\*\*\*@127\.0\.0\.1/);
    expect(err.details?.code).toBe('EAUTH');
    await expect(notifier.verify()).rejects.toThrow(/checking the SMTP settings via smtp:\/\/alerts:\*\*\*@127\.0\.0\.1:\d+ failed: Invalid login/);
    for (const shown of [err.message, JSON.stringify(err.details), String(notifier), JSON.stringify(notifier), inspect(notifier, { depth: 5 })]) {
      expect(shown).not.toContain(wrong);
      expect(shown).not.toContain(encodeURIComponent(wrong));
    }
  });

  it('rejects quickly on a dead port, and within the timeout on a server that never answers', async () => {
    const probe = net.createServer();
    const deadPort = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = new EmailNotifier({ url: url(PASSWORD, deadPort), from: 'alerts@fluxops.example', to: 'oncall@example.com', timeoutMs: 1000 });
    let started = Date.now();
    const e1 = (await dead.send(firing).catch((e: unknown) => e)) as FluxError;
    expect(e1).toBeInstanceOf(FluxError);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(e1.message).not.toContain(PASSWORD);
    expect(e1.message).not.toContain(encodeURIComponent(PASSWORD));

    // Accepts the connection and says nothing: only the timeout can end the send.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    const silentPort = await listen(silent);
    try {
      const hung = new EmailNotifier({ url: url(PASSWORD, silentPort), from: 'alerts@fluxops.example', to: 'oncall@example.com', timeoutMs: 500 });
      started = Date.now();
      const e2 = (await hung.send(firing).catch((e: unknown) => e)) as FluxError;
      const took = Date.now() - started;
      expect(e2).toBeInstanceOf(FluxError);
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(3000);
      expect(e2.message).toMatch(/failed: /);
      expect(e2.message).not.toContain(PASSWORD);
      expect(e2.message).not.toContain(encodeURIComponent(PASSWORD));
      expect(e2.details?.server).toBe(`smtp://alerts:***@127.0.0.1:${silentPort}`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses bad settings with clear errors that never repeat the password', () => {
    const ok: EmailNotifierOptions = { url: url(), from: 'alerts@fluxops.example', to: 'oncall@example.com' };
    const cases: Array<[Partial<EmailNotifierOptions>, string, RegExp]> = [
      [{ url: `http://alerts:${PASSWORD}@host` }, 'url', /must start with smtp:\/\/ or smtps:\/\/; got http:\/\//],
      [{ url: `not a url ${PASSWORD}` }, 'url', /not a URL/],
      [{ url: `smtp://alerts@host:25` }, 'url', /names the user 'alerts' but no password/],
      [{ url: `smtp://alerts:${PASSWORD}@host:25/path?x=1` }, 'url', /no path, query or fragment/],
      [{ from: 'not-an-address' }, 'from', /from must be an email address/],
      [{ from: 'a@example.com, b@example.com' }, 'from', /from must be a single address/],
      [{ to: '' }, 'to', /to must be an email address/],
      [{ to: ['ok@example.com', 'nope'] }, 'to[1]', /to\[1\] must be an email address/],
      [{ to: 'a@example.com\r\nBcc: x@evil.example' }, 'to', /must not contain line breaks/],
      [{ timeoutMs: 0 }, 'timeoutMs', /timeoutMs must be a whole number/],
    ];
    for (const [patch, field, message] of cases) {
      const e = refusal(() => new EmailNotifier({ ...ok, ...patch }));
      expect(e.details?.field).toBe(field);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain(PASSWORD);
    }
    const n = new EmailNotifier({ ...ok, url: `smtps://alerts:${encodeURIComponent(PASSWORD)}@mail.example.com` });
    expect(n.server).toBe('smtps://alerts:***@mail.example.com:465');
  });
});
