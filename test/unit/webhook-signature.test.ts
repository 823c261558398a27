import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/index.js';
import { EVENT_TYPES, type EventType } from '../../src/events/index.js';
import { matchesPattern, retryDelay, signPayload, slackMessage, verifySignature, type EventBody } from '../../src/webhooks/index.js';
import { ROOT } from '../helpers/cli.js';

const SECRET = 'whsec_unit-test-secret-0123456789';
const BODY = JSON.stringify({ id: 'whd-0123456789abcdef', event: { seq: 7, type: 'model.created', payload: { model: 'ünïcode' } } });

describe('delivery signatures', () => {
  it('are HMAC-SHA256 over `${t}.${body}` in t=…,v1=…', () => {
    const header = signPayload(SECRET, BODY, 1_718_000_000);
    const expected = createHmac('sha256', SECRET).update(`1718000000.${BODY}`).digest('hex');
    expect(header).toBe(`t=1718000000,v1=${expected}`);
    expect(verifySignature(SECRET, header, BODY, { now: 1_718_000_000 })).toEqual({ ok: true, timestamp: 1_718_000_000 });
    expect(verifySignature(SECRET, header, Buffer.from(BODY), { now: 1_718_000_100 }).ok).toBe(true);
  });

  it('refuse a changed body, another secret, a stale or future timestamp, a malformed header', () => {
    const t = 1_718_000_000;
    const header = signPayload(SECRET, BODY, t);
    expect(verifySignature(SECRET, header, `${BODY} `, { now: t })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) as string });
    expect(verifySignature(`${SECRET}x`, header, BODY, { now: t }).ok).toBe(false);
    expect(verifySignature(SECRET, header, BODY, { now: t + 301 })).toMatchObject({ ok: false, reason: expect.stringMatching(/301 s old/) as string });
    expect(verifySignature(SECRET, header, BODY, { now: t - 301 })).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) as string });
    expect(verifySignature(SECRET, header, BODY, { now: t + 30, toleranceSeconds: 10 }).ok).toBe(false);
    expect(verifySignature(SECRET, header.replace('t=1718000000', 't=1718000001'), BODY, { now: t }).ok).toBe(false);
    for (const bad of ['', 'v1=abc', `t=${t}`, `t=${t},v1=zz`, 'garbage', undefined, null]) expect(verifySignature(SECRET, bad, BODY, { now: t }).ok, String(bad)).toBe(false);
    // Any v1 that matches is enough (two are sent while a secret is rotated).
    const other = signPayload('another-secret-0123456789', BODY, t).split(',')[1]!;
    expect(verifySignature(SECRET, `t=${t},${other},${header.split(',')[1]!}`, BODY, { now: t }).ok).toBe(true);
  });
});

/** The code blocks of docs/webhooks.md in one language. */
function snippet(lang: string): string {
  const text = fs.readFileSync(path.join(ROOT, 'docs/webhooks.md'), 'utf8');
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text);
  if (m === null) throw new Error(`docs/webhooks.md has no ${lang} block`);
  return m[1]!;
}

describe('the verification snippets in docs/webhooks.md', () => {
  const t = Math.floor(Date.now() / 1000);
  const header = signPayload(SECRET, BODY, t);
  const cases = [
    { header, body: BODY, want: true },
    { header, body: `${BODY}x`, want: false },
    { header: signPayload(SECRET, BODY, t - 1000), body: BODY, want: false },
    { header: signPayload(SECRET, BODY, t + 1000), body: BODY, want: false },
    { header: '', body: BODY, want: false },
  ];

  it('Node', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-wh-doc-'));
    try {
      fs.writeFileSync(path.join(dir, 'verify.mjs'), snippet('js'));
      const check = `import { verifyFluxOps } from ${JSON.stringify(path.join(dir, 'verify.mjs'))};
        const cases = ${JSON.stringify(cases)};
        process.stdout.write(JSON.stringify(cases.map((c) => verifyFluxOps(${JSON.stringify(SECRET)}, c.header, Buffer.from(c.body)))));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual(cases.map((c) => c.want));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)(`Python${python ? '' : ' — SKIPPED: no python3 on this machine'}`, () => {
    const script = `${snippet('python')}
import json, sys
cases = json.loads(sys.argv[1])
print(json.dumps([verify_fluxops(${JSON.stringify(SECRET)}, c["header"], c["body"].encode()) for c in cases]))
`;
    const out = execFileSync('python3', ['-c', script, JSON.stringify(cases)], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(cases.map((c) => c.want));
  });
});

describe('event patterns', () => {
  it('* stands for any characters, dots included', () => {
    expect(matchesPattern('model.*', 'model.version.created')).toBe(true);
    expect(matchesPattern('model.*', 'model.created')).toBe(true);
    expect(matchesPattern('model.*', 'models.created')).toBe(false);
    expect(matchesPattern('pipeline.run.*', 'pipeline.run.failed')).toBe(true);
    expect(matchesPattern('*', 'sweep.trial.finished')).toBe(true);
    expect(matchesPattern('*.completed', 'rollout.completed')).toBe(true);
    expect(matchesPattern('model.created', 'model.created')).toBe(true);
    expect(matchesPattern('model.created', 'model.createdx')).toBe(false);
    expect(matchesPattern('model.c_eated', 'model.created')).toBe(false);
  });
});

describe('retry delays', () => {
  it('double from the base, within ±20 %, capped', () => {
    const s = { retryBaseMs: 1000, retryMaxMs: 10_000 };
    expect([1, 2, 3, 4].map((a) => retryDelay(a, s, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(5, s, () => 0.5)).toBe(10_000);
    expect(retryDelay(20, s, () => 0.5)).toBe(10_000);
    expect(retryDelay(1, s, () => 0)).toBe(800);
    expect(retryDelay(1, s, () => 0.999999)).toBe(1200);
  });
});

describe('the Slack format', () => {
  const body = (type: string, payload: Record<string, unknown>): EventBody => ({ seq: 12, type, time: Date.UTC(2024, 5, 10, 8, 0, 0), model: null, run_id: null, experiment_id: null, endpoint: null, payload, actor: 'ci-bot' });

  it('says what happened in a sentence, with the type, time, seq and actor as context', () => {
    const m = slackMessage(body('model.alias.changed', { model: 'diabetes', alias: 'production', version: '3', previous_version: '2' }));
    expect(m.text).toBe('Alias `diabetes@production` moved from version 2 to 3.');
    expect(m.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: m.text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '*model.alias.changed* · 2024-06-10T08:00:00.000Z · seq 12 · by `ci-bot`' }] },
    ]);
    expect(slackMessage(body('rollout.rolled_back', { rollout: 'ro-1', endpoint: 'prod', step: 1, reason: 'gate psi<0.2 failed', gate: 'psi<0.2', value: 0.31 })).text).toBe(
      ':rotating_light: Rollout `ro-1` on `prod` was rolled back at step 2: gate psi&lt;0.2 failed (gate `psi&lt;0.2` = 0.3100).',
    );
    expect(slackMessage(body('pipeline.run.failed', { pipeline_run: 'pr-9', pipeline: 'retrain', step: 'evaluate', reason: 'exit code 1' })).text).toBe(':x: Pipeline `retrain` run `pr-9` failed at step `evaluate`: exit code 1.');
    expect(slackMessage(body('approval.requested', { pipeline_run: 'pr-9', pipeline: 'deploy', step: 'approve', expires_at: null })).text).toMatch(/waits for an approval at step `approve`/);
    expect(slackMessage(body('alert.firing', { alert: 'errors', rule: 'errors', severity: 'critical', value: 0.12, threshold: 0.05, summary: 'error rate above 5 %', labels: {}, starts_at: 1 })).text).toBe(
      ':rotating_light: *FIRING* (critical) `errors`: error rate above 5 % (value 0.1200, threshold 0.0500).',
    );
    expect(slackMessage(body('drift.detected', { monitor: 'd', endpoint: 'prod', result: 1, model: 'diabetes', version: '2', dataset_drift: true, prediction_drift: false, drift_share: 0.25, drifted_columns: ['BMI', 'Age'], rows: 10, window_start: 1, window_end: 2 })).text).toBe(
      ':warning: Drift on `prod` (monitor `d`): dataset drifted, `BMI`, `Age` against `diabetes/2`.',
    );
    expect(slackMessage(body('sweep.completed', { sweep: 'nightly', run_id: 'r', status: 'completed', best_trial: 12, best_value: 0.77312 })).text).toBe('Sweep `nightly` completed: best trial 12 with 0.7731.');
  });

  it('has a sentence for every event type, a generic one for any other, and escapes markup', () => {
    for (const type of EVENT_TYPES) {
      const payload = samplePayload(type);
      const text = slackMessage(body(type, payload)).text;
      expect(text, type).not.toMatch(/undefined|\[object/);
      expect(text.length, type).toBeGreaterThan(10);
    }
    expect(slackMessage(body('something.new', { thing: 'x', n: 3, nested: { a: 1 } })).text).toBe('FluxOps event `something.new`: thing=`x`, n=`3`.');
    expect(slackMessage(body('model.created', { model: '<!channel> & co' })).text).toBe('Model `&lt;!channel&gt; &amp; co` was registered.');
    expect(slackMessage({ ...body('webhook.test', { webhook: 'wh-1', name: 'team' }), seq: null }).text).toMatch(/test delivery/);
  });
});

/** A payload holding every field any event's sentence reads (each type takes the ones it has). */
function samplePayload(_type: EventType): Record<string, unknown> {
  const s = { model: 'm', version: '2', previous_version: '1', alias: 'a', run_id: 'r', run_name: 'n', experiment_id: '1', name: 'n', status: 'FINISHED', previous_status: 'RUNNING', end_time: 1, source: 's', key_id: 'k', role: 'admin' };
  const e = { endpoint: 'e', environment: 'production', deployment: 'd', previous_model: 'm/1', traffic: { d: 100 }, previous: { d: 0 }, mirror: {}, previous_mirror: {} };
  const r = { rollout: 'ro', stable: 'a', target: 'b', strategy: 'canary', step: 0, weight: 10, reason: 'why', gate: null, value: null };
  const p = { pipeline_run: 'pr', pipeline: 'p', trigger: 'manual', by: 'k', expires_at: 1 };
  const w = { sweep: 'sw', max_trials: 20, sampler: 'tpe', trial: 1, value: 0.5, best_trial: 1, best_value: 0.5, schedule: 'sc', slot: 1, skipped: null };
  const m = { monitor: 'mon', rows: 1500, drift_share: 0.25, dataset_drift: true, prediction_drift: false, drifted_columns: ['BMI'], result: 3, window_start: 1, window_end: 2, estimated_accuracy: 0.8 };
  const a = { alert: 'al', severity: 'critical', threshold: 0.05, summary: 'too many errors', labels: {}, starts_at: 1, ends_at: 2 };
  return { ...s, ...e, ...r, ...p, ...w, ...m, ...a };
}

describe('webhook settings', () => {
  it('come from FLUXOPS_WEBHOOK_* (or the config input), validated', () => {
    expect(resolveConfig({ home: '/tmp/h' }, {}).webhooks).toEqual({ retryBaseMs: 1000, retryMaxMs: 600_000, maxAttempts: 8, timeoutMs: 10_000, pollMs: 1000 });
    const env = { FLUXOPS_WEBHOOK_RETRY_BASE_MS: '50', FLUXOPS_WEBHOOK_MAX_ATTEMPTS: '3', FLUXOPS_WEBHOOK_TIMEOUT_MS: '2500', FLUXOPS_WEBHOOK_POLL_MS: '100', FLUXOPS_WEBHOOK_RETRY_MAX_MS: '400' };
    expect(resolveConfig({ home: '/tmp/h' }, env).webhooks).toEqual({ retryBaseMs: 50, retryMaxMs: 400, maxAttempts: 3, timeoutMs: 2500, pollMs: 100 });
    expect(resolveConfig({ home: '/tmp/h', webhooks: { maxAttempts: 5 } }, env).webhooks.maxAttempts).toBe(5);
    expect(() => resolveConfig({ home: '/tmp/h' }, { FLUXOPS_WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow("FLUXOPS_WEBHOOK_MAX_ATTEMPTS must be a whole number from 1 to 50, not '0'");
    expect(() => resolveConfig({ home: '/tmp/h' }, { FLUXOPS_WEBHOOK_RETRY_BASE_MS: '1s' })).toThrow(/FLUXOPS_WEBHOOK_RETRY_BASE_MS must be a whole number/);
  });
});
