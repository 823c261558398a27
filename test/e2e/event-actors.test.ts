import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, type DomainEvent, type EventType } from '../../src/events/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Every kind of domain event a caller can cause over HTTP names the calling key as its actor, on
 * both APIs. The actor is passed explicitly from the route to the service (`callerOf(req)`), so a
 * route that forgets it would record null: each flow below must produce every event type its API
 * can produce (a new event type fails here until a flow covers it), and every one of them must
 * carry the flow's key.
 */
/** Event types only the native API can cause. */
const NATIVE_ONLY = ['key.', 'endpoint.', 'deployment.', 'traffic.', 'rollout.', 'pipeline.', 'approval.', 'sweep.', 'schedule.', 'monitor.', 'drift.', 'alert.'];
/**
 * Rollout events a rollout's controller makes (actor `rollout:<id>`), or an approver's promote:
 * test/e2e/rollouts.test.ts checks their actors.
 */
const BY_CONTROLLER_OR_APPROVER = ['rollout.step', 'rollout.completed', 'rollout.promoted', 'approval.granted', 'approval.rejected'];
/**
 * Events the pipeline engine, a sweep or a scheduler makes as it moves on (actor null, or
 * `schedule:<name>`): test/e2e/reference-pipeline.test.ts, the sweep and schedule tests cover them.
 * Drift found by a check and alert transitions need drifted traffic or a failing endpoint:
 * test/e2e/drift.test.ts and test/e2e/alerts.test.ts make them.
 */
const BY_ENGINE = ['pipeline.run.succeeded', 'pipeline.run.failed', 'approval.requested', 'sweep.started', 'sweep.trial.finished', 'sweep.completed', 'schedule.fired', 'drift.detected', 'alert.firing', 'alert.resolved'];
const WAITS = 'name: actors\nsteps:\n  gate:\n    type: approve\n    with: { timeout: 1h }\n';

describe('event actors', () => {
  let s: TestServer;
  const keys: Record<'mlflow' | 'native' | 'admin', string> = { mlflow: '', native: '', admin: '' };
  let source = '';
  let sourceRun = '';

  beforeAll(async () => {
    s = await startTestServer({ seed: true, auth: 'required' });
    keys.mlflow = (await s.platform.keys.create('mlflow-dev', { role: 'developer' })).key;
    keys.native = (await s.platform.keys.create('native-dev', { role: 'developer' })).key;
    keys.admin = (await s.platform.keys.create('native-admin', { role: 'admin' })).key;
    const seeded = await s.platform.registry.getModelVersion('diabetes', '1');
    source = seeded.source;
    sourceRun = seeded.runId;
  });
  afterAll(async () => s?.close());

  async function call(method: string, path: string, key: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  }

  async function eventsAfter(after: number): Promise<DomainEvent[]> {
    const out: DomainEvent[] = [];
    for (let cursor = after; ; ) {
      const page = await s.platform.events.log.read({ after: cursor, limit: 1000 });
      if (page.events.length === 0) return out;
      out.push(...page.events);
      cursor = page.nextAfter;
    }
  }

  function expectAttributed(events: DomainEvent[], expectedTypes: readonly EventType[], actor: string): void {
    expect([...new Set(events.map((e) => e.type))].sort()).toEqual([...expectedTypes].sort());
    expect(events.filter((e) => e.actor !== actor).map((e) => `${e.type} by ${String(e.actor)}`)).toEqual([]);
  }

  it('MLflow routes: every event names the key that called', async () => {
    const start = await s.platform.events.log.latestSeq();
    const k = keys.mlflow;
    const m = '/api/2.0/mlflow';
    await call('POST', `${m}/experiments/create`, k, { name: 'actors-mlflow' });
    const run = (await call('POST', `${m}/runs/create`, k, { experiment_id: '0' })) as { run: { info: { run_id: string } } };
    await call('POST', `${m}/runs/update`, k, { run_id: run.run.info.run_id, status: 'FINISHED', end_time: Date.now() });
    await call('POST', `${m}/registered-models/create`, k, { name: 'actors-mlflow' });
    await call('POST', `${m}/model-versions/create`, k, { name: 'actors-mlflow', source, run_id: sourceRun });
    await call('POST', `${m}/registered-models/alias`, k, { name: 'actors-mlflow', alias: 'staging', version: '1' });
    await call('DELETE', `${m}/registered-models/alias`, k, { name: 'actors-mlflow', alias: 'staging' });
    await call('POST', `${m}/registered-models/alias`, k, { name: 'actors-mlflow', alias: 'staging', version: '1' });
    await call('DELETE', `${m}/model-versions/delete`, k, { name: 'actors-mlflow', version: '1' });
    await call('DELETE', `${m}/registered-models/delete`, k, { name: 'actors-mlflow' });
    // MLflow's API has no key management and no endpoints: those are the native API's.
    expectAttributed(await eventsAfter(start), EVENT_TYPES.filter((t) => !NATIVE_ONLY.some((p) => t.startsWith(p))), 'mlflow-dev');
  });

  it('native routes: every event names the key that called', async () => {
    const start = await s.platform.events.log.latestSeq();
    const k = keys.native;
    const v = '/api/v1';
    await call('POST', `${v}/experiments`, k, { name: 'actors-native' });
    const run = (await call('POST', `${v}/runs`, k, { experimentId: '0' })) as { info: { runId: string } };
    await call('PATCH', `${v}/runs/${run.info.runId}`, k, { status: 'FINISHED', endTime: Date.now() });
    await call('POST', `${v}/models`, k, { name: 'actors-native' });
    await call('POST', `${v}/models/actors-native/versions`, k, { source, runId: sourceRun });
    await call('PUT', `${v}/models/actors-native/aliases/staging`, k, { version: '1' });
    await call('DELETE', `${v}/models/actors-native/aliases/staging`, k);
    await call('PUT', `${v}/models/actors-native/aliases/staging`, k, { version: '1' });
    await call('POST', `${v}/endpoints`, k, { name: 'actors' });
    await call('PATCH', `${v}/endpoints/actors`, k, { description: 'attributed' });
    await call('PUT', `${v}/endpoints/actors/deployments/blue`, k, { model: 'actors-native/1' });
    await call('PUT', `${v}/endpoints/actors/deployments/blue`, k, { model: 'actors-native@staging' });
    await call('PUT', `${v}/endpoints/actors/deployments/green`, k, { model: 'actors-native/1' });
    await call('PUT', `${v}/endpoints/actors/traffic`, k, { traffic: { blue: 90, green: 10 } });
    await call('PUT', `${v}/endpoints/actors/mirror`, k, { mirror: { green: 20 } });
    await call('PUT', `${v}/endpoints/actors/traffic`, k, { traffic: { blue: 100 } });
    // A check run on demand (its window is empty: insufficient data) is the caller's.
    await call('POST', `${v}/monitors`, k, { name: 'actors-drift', endpoint: 'actors' });
    await call('POST', `${v}/monitors/actors-drift/run`, k);
    // An operator's rollout moves; what its controller does meanwhile is excluded below.
    const ro = (await call('POST', `${v}/endpoints/actors/rollouts`, k, { to: 'green', steps: [10, 100], bake: '1h', interval: '60s' })) as { id: string };
    await call('POST', `${v}/rollouts/${ro.id}/pause`, k);
    await call('POST', `${v}/rollouts/${ro.id}/resume`, k);
    await call('POST', `${v}/rollouts/${ro.id}/abort`, k);
    const pr = (await call('POST', `${v}/pipeline-runs`, k, { spec: WAITS })) as { id: string };
    await call('POST', `${v}/pipeline-runs/${pr.id}/cancel`, k);
    await call('DELETE', `${v}/endpoints/actors/deployments/green`, k);
    await call('DELETE', `${v}/endpoints/actors`, k);
    await call('DELETE', `${v}/models/actors-native/versions/1`, k);
    await call('DELETE', `${v}/models/actors-native`, k);
    const all = await eventsAfter(start);
    const byController = all.filter((e) => e.actor?.startsWith('rollout:') === true);
    expect(byController.every((e) => e.actor === `rollout:${ro.id}` && ['rollout.step', 'traffic.changed'].includes(e.type))).toBe(true);
    const byEngine = all.filter((e) => BY_ENGINE.includes(e.type));
    expect(byEngine.map((e) => [e.type, e.actor])).toEqual([['approval.requested', null]]);
    const developerEvents = all.filter((e) => !byController.includes(e) && !byEngine.includes(e));
    expectAttributed(developerEvents, EVENT_TYPES.filter((t) => !t.startsWith('key.') && !BY_CONTROLLER_OR_APPROVER.includes(t) && !BY_ENGINE.includes(t)), 'native-dev');

    const keyStart = await s.platform.events.log.latestSeq();
    const made = (await call('POST', `${v}/keys`, keys.admin, { name: 'short-lived', role: 'viewer' })) as { keyId: string };
    await call('DELETE', `${v}/keys/${made.keyId}`, keys.admin);
    expectAttributed(await eventsAfter(keyStart), ['key.created', 'key.revoked'], 'native-admin');
  });

  it('in-process callers (the CLI, workflows) are recorded as no actor', async () => {
    const start = await s.platform.events.log.latestSeq();
    await s.platform.registry.createRegisteredModel({ name: 'actors-cli' });
    expect((await eventsAfter(start)).map((e) => [e.type, e.actor])).toEqual([['model.created', null]]);
  });
});
