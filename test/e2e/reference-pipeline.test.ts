/**
 * The shipped reference flow (`examples/reference/pipeline.yaml`): train on the diabetes data →
 * compare F1 with production → a reviewer approves → register as production → a canary
 * rollout on the production endpoint, run by a real `fluxops server` (its in-process job
 * worker) and driven through the real CLI with `--url`, along its paths: approved (a first
 * model, then a better one rolled out by canary), not improved, rejected, and an approver who
 * started the run themselves refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import type { PipelineRun } from '../../src/pipelines/index.js';
import { assertBuilt, ROOT, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

const DATA = path.resolve(ROOT, '../shared/data/diabetes.csv');
const EXAMPLE = path.join(ROOT, 'examples/reference/pipeline.yaml');
const haveData = fs.existsSync(DATA);
if (!haveData) console.log(`skipping the reference pipeline test: ${DATA} is absent (it sits beside the checkout in CI)`);

describe.skipIf(!haveData)('the reference pipeline (examples/reference) on a real server', () => {
  const home = freshHome('fluxops-ref-');
  let server: ChildProcess;
  let url = '';
  let approver = '';
  let admin = '';
  let client: FluxClient;

  beforeAll(async () => {
    assertBuilt();
    const key = async (name: string, role: string) => {
      const r = await runCli(['--home', home, '--json', 'keys', 'create', name, '--role', role]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { key: string }).key;
    };
    approver = await key('carol', 'approver');
    admin = await key('root', 'admin');
    const s = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/);
    server = s.child;
    url = s.match[1]!;
    client = new FluxClient({ url, apiKey: admin });
  }, 120_000);
  afterAll(async () => {
    if (server) await stop(server);
    fs.rmSync(home, { recursive: true, force: true });
  });

  const start = async (params: string[], apiKey?: string): Promise<string> => {
    const r = await runCli(['--url', url, ...(apiKey ? ['--api-key', apiKey] : []), '--json', 'pipelines', 'run', EXAMPLE, '--detach', ...params.flatMap((p) => ['--param', p])]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as PipelineRun).id;
  };
  const until = async (id: string, done: (r: PipelineRun) => boolean, timeoutMs = 90_000): Promise<PipelineRun> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = await client.getPipelineRun(id);
      if (done(r)) return r;
      if (Date.now() > end) throw new Error(`pipeline run ${id} did not get there: ${JSON.stringify(r.steps.map((s) => [s.step, s.status, s.error]))}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const step = (r: PipelineRun, name: string) => r.steps.find((s) => s.step === name)!;
  const waiting = (r: PipelineRun) => step(r, 'approve').status === 'waiting' || r.status !== 'running';
  const ended = (r: PipelineRun) => r.status !== 'running';
  const decide = (verb: 'approve' | 'reject', id: string, key: string, reason: string) => runCli(['--url', url, '--api-key', key, '--json', 'pipelines', verb, id, '--reason', reason]);

  it('approved: a first model passes the comparison, waits for the approver, is registered as production and serves the endpoint', async () => {
    const id = await start(['C=0.01']);
    const atGate = await until(id, waiting);
    expect(step(atGate, 'compare').outputs).toMatchObject({ improved: true, current: null });
    expect(step(atGate, 'approve').status).toBe('waiting');
    // Only an approver may decide: a developer-less anonymous call is refused.
    const anonymous = await runCli(['--url', url, 'pipelines', 'approve', id]);
    expect(anonymous.code).toBe(5);
    expect(anonymous.stderr).toMatch(/approve permission/);
    const ok = await decide('approve', id, approver, 'first model, looks sane');
    expect(ok.code, ok.stderr).toBe(0);
    const run = await until(id, ended);
    expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
    expect(step(run, 'approve')).toMatchObject({ decidedBy: 'carol', decisionReason: 'first model, looks sane', outputs: { approved: true, by: 'carol' } });
    expect(step(run, 'register')).toMatchObject({ modelName: 'diabetes', modelVersion: '1', trackingRunId: step(run, 'train').outputs!['run_id'] });
    expect((await client.getVersionByAlias('diabetes', 'production')).version).toBe('1');
    expect((await client.getEndpoint('production')).traffic).toEqual({ v1: 100 });
    // The decision is in the audit log, with the approver's key and the matched route.
    const audit = await client.listAudit({});
    expect(audit.entries.some((e) => e.keyName === 'carol' && e.route === '/api/v1/pipeline-runs/:id/approve' && e.status === 200)).toBe(true);
    const events = await client.readEvents({ types: ['approval.requested', 'approval.granted', 'pipeline.run.succeeded'] });
    expect(events.events.filter((e) => (e.payload as { pipeline_run?: string }).pipeline_run === id).map((e) => e.type)).toEqual(['approval.requested', 'approval.granted', 'pipeline.run.succeeded']);
  }, 120_000);

  it('not improved: a worse model skips approval, registration and deployment; production stays', async () => {
    const id = await start(['C=0.001']);
    const run = await until(id, ended);
    expect(run.status).toBe('succeeded');
    expect(step(run, 'compare').outputs).toMatchObject({ improved: false, current_version: '1' });
    for (const s of ['approve', 'register', 'deploy']) expect(step(run, s).status).toBe('skipped');
    expect(step(run, 'approve').error).toMatch(/if: .* was false/);
    expect(step(run, 'register').error).toMatch(/needs approve, which was skipped/);
    expect((await client.getVersionByAlias('diabetes', 'production')).version).toBe('1');
    expect((await client.searchModelVersions({ name: 'diabetes' })).items.map((v) => v.version)).toEqual(['1']);
  }, 120_000);

  it('rejected: a better model waits, the approver rejects it, the run fails with the reason and nothing is registered', async () => {
    const id = await start(['C=1']);
    await until(id, waiting);
    const r = await decide('reject', id, approver, 'not before the freeze ends');
    expect(r.code, r.stderr).toBe(0);
    const run = await until(id, ended);
    expect(run.status).toBe('failed');
    expect(step(run, 'approve')).toMatchObject({ status: 'failed', decidedBy: 'carol', error: 'rejected by carol: not before the freeze ends' });
    expect(step(run, 'register').status).toBe('skipped');
    expect(run.reason).toMatch(/step approve failed: rejected by carol/);
    expect((await client.searchModelVersions({ name: 'diabetes' })).items.map((v) => v.version)).toEqual(['1']);
  }, 120_000);

  it('approved again: the same inputs reuse the trained model, and the new version is rolled out by canary', async () => {
    const id = await start(['C=1']);
    const atGate = await until(id, waiting);
    expect(step(atGate, 'train').cachedFrom).toMatch(/^pr-[0-9a-f]{12}\/train$/);
    await decide('approve', id, approver, 'freeze over');
    const run = await until(id, ended);
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.step, s.error]))).toBe('succeeded');
    const deploy = step(run, 'deploy');
    expect(deploy.outputs).toMatchObject({ endpoint: 'production', deployment: 'v2', version: '2', state: 'succeeded' });
    const rollout = await client.getRollout(String(deploy.outputs!['rollout']));
    expect(rollout).toMatchObject({ state: 'succeeded', stable: 'v1', target: 'v2', strategy: 'canary' });
    expect((await client.getEndpoint('production')).traffic).toMatchObject({ v1: 0, v2: 100 });
    expect((await client.getVersionByAlias('diabetes', 'production')).version).toBe('2');
    const logs = await client.pipelineLogs(id, { step: 'deploy' });
    expect(logs.lines.map((l) => l.text).join('\n')).toMatch(/rollout ro-[0-9a-f]+ completed/);
  }, 150_000);

  it('refuses an approver who started the run themselves (distinct_approver), and takes another', async () => {
    const id = await start(['model=diabetes-b', 'endpoint=review'], admin);
    const atGate = await until(id, waiting);
    expect(atGate.startedBy).toBe('root');
    const self = await decide('approve', id, admin, 'mine');
    expect(self.code).toBe(5);
    expect(self.stderr).toMatch(/needs an approver other than root/);
    expect((await decide('approve', id, approver, 'reviewed')).code).toBe(0);
    expect((await until(id, ended)).status).toBe('succeeded');
  }, 120_000);
});
