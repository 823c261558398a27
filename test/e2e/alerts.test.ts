/**
 * Alerts end to end on a real `fluxops server`: a synthetic check on an endpoint with nothing
 * deployed fails, its alert fires after two failures in a row and is delivered by a signed webhook
 * and by email (to an SMTP receiver the test starts, with authentication); deploying a model makes
 * the check pass and the alert resolves, delivered both ways; a silence mutes the next firing.
 * Also the refusals of bad rules, an error-rate rule and an SLO evaluated over the inference table.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { verifySignature } from '../../src/webhooks/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome, SAMPLE } from '../helpers/server.js';

interface Hook {
  type: string;
  payload: { alert: string; severity: string; value: number | null };
}

describe('alerts: fire and resolve, delivered by webhook and SMTP', () => {
  const home = freshHome('fluxops-alerts-');
  let server: ChildProcess;
  let url = '';
  let admin = '';
  let client: FluxClient;
  const mails: Array<{ to: string[]; raw: string }> = [];
  const hooks: Hook[] = [];
  let bad = 0;
  let secret = '';
  let smtp: SMTPServer;
  let receiver: http.Server;

  beforeAll(async () => {
    assertBuilt();
    smtp = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth(auth, _s, cb) {
        if (auth.username === 'alerts' && auth.password === 's3cret-pass') cb(null, { user: 'alerts' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (!verifySignature(secret, req.headers['x-fluxops-signature'], body).ok) bad++;
        else hooks.push((JSON.parse(body) as { event: Hook }).event);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const csv = `${home}/train.csv`;
    fs.writeFileSync(csv, generateDiabetesCsv(600, 3));
    const t = await runCli(['--home', home, 'train', '--data', csv, '--target', 'Diabetic', '--register', 'diabetes'], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    const k = await runCli(['--home', home, '--json', 'keys', 'create', 'root', '--role', 'admin']);
    admin = (JSON.parse(k.stdout) as { key: string }).key;
    const s = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/, {
      env: { FLUXOPS_MONITOR_TICK_MS: '200', FLUXOPS_SMTP_URL: `smtp://alerts:s3cret-pass@127.0.0.1:${smtpPort}`, FLUXOPS_SMTP_FROM: 'fluxops@example.test', FLUXOPS_WEBHOOK_POLL_MS: '100' },
    });
    server = s.child;
    url = s.match[1]!;
    client = new FluxClient({ url, apiKey: admin });
    const hook = await client.createWebhook({ name: 'pager', url: hookUrl, events: ['alert.*'] });
    secret = hook.secret;
    await client.createEndpoint({ name: 'checked' });
  }, 180_000);
  afterAll(async () => {
    if (server) await stop(server);
    await new Promise<void>((r) => smtp?.close(() => r()));
    await new Promise<void>((r) => receiver?.close(() => r()));
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('a failing synthetic check fires after 2 failures, resolves when the endpoint answers, and a silence mutes the next firing', async () => {
    const made = await runCli(['--url', url, '--api-key', admin, 'alerts', 'checks', 'create', 'ping', '--endpoint', 'checked', '--body', JSON.stringify({ inputs: [SAMPLE] }), '--every', '1s', '--alert-after', '2', '--email', 'oncall@example.test']);
    expect(made.code, made.stderr).toBe(0);
    // Nothing is deployed: every check answers 503.
    await expect.poll(() => hooks.filter((h) => h.type === 'alert.firing').length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => mails.length, { timeout: 10_000 }).toBe(1);
    expect(hooks[0]!.payload).toMatchObject({ alert: 'synthetic-ping', severity: 'critical' });
    expect(hooks[0]!.payload.value).toBeGreaterThanOrEqual(2);
    expect(mails[0]!.to).toEqual(['oncall@example.test']);
    expect(mails[0]!.raw).toMatch(/Subject: \[FIRING:critical\] synthetic-ping/);
    expect(mails[0]!.raw).not.toContain('s3cret-pass');
    const listed = await runCli(['--url', url, '--api-key', admin, 'alerts', 'list', '--status', 'firing']);
    expect(listed.stdout).toContain('synthetic-ping');
    const [check] = await client.listSyntheticChecks();
    expect(check).toMatchObject({ name: 'ping', lastStatus: 503 });
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
    expect(metrics).toMatch(/fluxops_alert_firing\{alert="synthetic-ping",rule="synthetic-ping",severity="critical"\} 1/);
    expect(metrics).toMatch(/fluxops_synthetic_check_consecutive_failures\{check="ping",endpoint="checked"\} \d+/);

    await client.deploy('checked', { name: 'blue', model: 'diabetes/1' });
    await expect.poll(() => hooks.filter((h) => h.type === 'alert.resolved').length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => mails.length, { timeout: 10_000 }).toBe(2);
    expect(mails[1]!.raw).toMatch(/Subject: \[RESOLVED(:critical)?\] synthetic-ping/);
    expect((await client.listAlerts({ status: 'inactive' })).map((a) => a.alert)).toContain('synthetic-ping');

    const sil = await runCli(['--url', url, '--api-key', admin, '--json', 'alerts', 'silence', '--rule', 'synthetic-ping', '--duration', '1h', '--comment', 'maintenance']);
    expect(sil.code, sil.stderr).toBe(0);
    const silenceId = (JSON.parse(sil.stdout) as { id: string }).id;
    // Nothing deployed again (a deployment taking all the traffic cannot be removed, so the endpoint is made anew).
    await client.deleteEndpoint('checked');
    await client.createEndpoint({ name: 'checked' });
    await expect.poll(async () => (await client.listAlerts({ status: 'firing' })).map((a) => [a.alert, a.silencedBy]), { timeout: 20_000 }).toEqual([['synthetic-ping', silenceId]]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(hooks.filter((h) => h.type === 'alert.firing')).toHaveLength(1);
    expect(mails).toHaveLength(2);
    expect(bad).toBe(0);
  }, 90_000);

  it('refuses bad rules by field; an error-rate rule and an SLO evaluate over the logged traffic', async () => {
    const file = `${home}/rules.yaml`;
    fs.writeFileSync(file, 'rules:\n  - name: errors\n    metric: { kind: error_rate, endpoint: checked, window: 5m }\n    op: ">"\n    threshold: 0.05\n    for: 10m\n    severity: urgent\n');
    const refused = await runCli(['--url', url, '--api-key', admin, 'alerts', 'create', '--file', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('severity');
    fs.writeFileSync(
      file,
      'every: 1s\nrules:\n  - name: errors\n    metric: { kind: error_rate, endpoint: checked, window: 5m }\n    op: ">"\n    threshold: 0.05\n    for: 0s\n    severity: warning\nslos:\n  - { name: checked-availability, endpoint: checked, kind: availability, objective: 0.999 }\n',
    );
    const ok = await runCli(['--url', url, '--api-key', admin, 'alerts', 'create', '--file', file]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('created rule errors, slo checked-availability');
    // The synthetic check's 503s are logged requests of the endpoint: its error rate is high, and the availability SLO burns.
    await expect.poll(async () => (await client.listAlerts({ status: 'firing' })).map((a) => a.alert).sort(), { timeout: 20_000 }).toEqual(
      expect.arrayContaining(['checked-availability:1h/5m', 'errors']),
    );
    const rules = await runCli(['--url', url, '--api-key', admin, 'alerts', 'rules']);
    expect(rules.stdout).toContain('error_rate > 0.05 for 0s (warning)');
  }, 60_000);
});
