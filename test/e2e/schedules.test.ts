import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/index.js';
import { main } from '../../src/cli/main.js';
import { FluxClient } from '../../src/client/index.js';
import type { FluxError } from '../../src/core/index.js';
import { createLogger } from '../../src/logging/index.js';
import { openPlatform } from '../../src/platform.js';
import { addJobWorker } from '../../src/job-handlers.js';
import type { Schedule } from '../../src/schedules/index.js';
import { freshHome, startTestServer, type TestServer } from '../helpers/server.js';

const SPEC = 'name: retrain\nparams:\n  C: { type: number, default: 1.0 }\n  solver: { type: string, default: lbfgs }\n  fast: { type: boolean, default: false }\nsteps:\n  train:\n    run: echo "C=${{ params.C }}"\n';

/** Runs the CLI's program in this process (the real commands, parsing and output), collecting what it writes. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = (c: string | Uint8Array) => (out.push(String(c)), true);
  process.stderr.write = (c: string | Uint8Array) => (err.push(String(c)), true);
  try {
    const code = await main(['node', 'fluxops', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.exitCode = 0;
  }
}

describe('schedules over the API', () => {
  let s: TestServer;
  let dev: FluxClient;
  let viewer: FluxClient;
  beforeAll(async () => {
    s = await startTestServer({ auth: 'required' });
    dev = new FluxClient({ url: s.url, apiKey: (await s.platform.keys.create('dev-bot', { role: 'developer' })).key });
    viewer = new FluxClient({ url: s.url, apiKey: (await s.platform.keys.create('ann', { role: 'viewer' })).key });
  });
  afterAll(async () => s?.close());

  it('creates, lists, gets, pauses, resumes and deletes, with bodies equal to the service results', async () => {
    const made = await dev.createSchedule({ name: 'nightly', cron: '41 22 * * *', pipelineSpec: SPEC, params: { C: 0.1, solver: 'saga', fast: true }, overlap: 'queue', catchUp: 'latest' });
    expect(made).toMatchObject({ name: 'nightly', cron: '41 22 * * *', timezone: 'UTC', pipeline: 'retrain', pipelineSpec: SPEC, params: { C: 0.1, solver: 'saga', fast: true }, overlap: 'queue', catchUp: 'latest', paused: false, createdBy: 'dev-bot' });
    expect(new Date(made.nextSlot!).toISOString()).toMatch(/T22:41:00\.000Z$/);
    expect(made).toEqual(await s.platform.schedules.get('nightly'));
    expect(await viewer.listSchedules()).toEqual([made]);
    expect(await viewer.getSchedule(made.id)).toEqual(made);
    expect(await viewer.scheduleFirings('nightly')).toEqual([]);
    const paused = await dev.pauseSchedule('nightly');
    expect(paused.paused).toBe(true);
    const resumed = await dev.resumeSchedule('nightly');
    expect(resumed).toEqual(await s.platform.schedules.get('nightly'));
    expect(resumed.paused).toBe(false);
    await dev.deleteSchedule('nightly');
    expect(await viewer.listSchedules()).toEqual([]);
  });

  it('answers refusals with the error body, the right status, and who may do what', async () => {
    const refusal = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as FluxError);
    const bad = await refusal(dev.createSchedule({ name: 'x', cron: '61 * * * *', pipelineSpec: SPEC }));
    expect(bad).toMatchObject({ code: 'INVALID_PARAMETER_VALUE', message: "cron '61 * * * *' is not a valid cron expression: Invalid value for minute: 61" });
    const tz = await refusal(dev.createSchedule({ name: 'x', cron: '0 * * * *', timezone: 'Nowhere/Land', pipelineSpec: SPEC }));
    expect(tz?.message).toMatch(/^timezone must be an IANA time zone/);
    const raw = await fetch(`${s.url}/api/v1/schedules`, { method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    expect(raw.status).toBe(400);
    expect(Object.keys((await raw.json()) as object).sort()).toEqual(['error_code', 'message']);
    await dev.createSchedule({ name: 'taken', cron: '0 * * * *', pipelineSpec: SPEC });
    expect(await refusal(dev.createSchedule({ name: 'taken', cron: '0 * * * *', pipelineSpec: SPEC }))).toMatchObject({ code: 'RESOURCE_ALREADY_EXISTS' });
    expect(await refusal(viewer.getSchedule('missing'))).toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST', message: "schedule 'missing' does not exist" });
    expect(await refusal(viewer.createSchedule({ name: 'nope', cron: '0 * * * *', pipelineSpec: SPEC }))).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await refusal(viewer.pauseSchedule('taken'))).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await refusal(viewer.deleteSchedule('taken'))).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await refusal(new FluxClient({ url: s.url }).listSchedules())).toMatchObject({ code: 'UNAUTHENTICATED' });
    await dev.deleteSchedule('taken');
  });

  it('audits the writes with the route and the schedule name', async () => {
    await dev.createSchedule({ name: 'audited', cron: '0 * * * *', pipelineSpec: SPEC });
    await dev.deleteSchedule('audited');
    await s.platform.audit.flush();
    const { entries } = await s.platform.audit.list({});
    expect(entries).toContainEqual(expect.objectContaining({ keyName: 'dev-bot', route: '/api/v1/schedules', status: 201, target: 'name=audited' }));
    expect(entries).toContainEqual(expect.objectContaining({ keyName: 'dev-bot', route: '/api/v1/schedules/:name', method: 'DELETE', status: 200 }));
  });
});

describe('a server fires its schedules into the pipeline engine', () => {
  it('starts a pipeline run when the slot comes, records it on the firing, runs it, and publishes schedule.fired', async () => {
    const home = freshHome();
    const clock = { ms: Date.parse('2025-03-01T22:40:00Z'), now() { return this.ms; } };
    const platform = await openPlatform({ home }, { logger: createLogger({ level: 'silent' }), scheduler: { clock, tickMs: 20 } });
    expect(platform.scheduler).toBeDefined();
    const app = await buildApp({ platform, logger: createLogger({ level: 'silent' }), auth: 'off' });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const addr = app.server.address();
      const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
      // The server's in-process job worker, as `fluxops server` runs on the embedded store.
      await addJobWorker(platform, { concurrency: 2, serverUrl: () => url });
      await platform.start();
      const client = new FluxClient({ url });
      const made = await client.createSchedule({ name: 'nightly', cron: '41 22 * * *', pipelineSpec: SPEC, params: { C: 0.5 } });
      expect(new Date(made.nextSlot!).toISOString()).toBe('2025-03-01T22:41:00.000Z');
      await new Promise((r) => setTimeout(r, 100));
      expect(await client.scheduleFirings('nightly')).toEqual([]);
      clock.ms = Date.parse('2025-03-01T22:41:00.200Z');
      await expect.poll(async () => (await client.scheduleFirings('nightly')).map((f) => f.state), { timeout: 5000 }).toEqual(['started']);
      const [firing] = await client.scheduleFirings('nightly');
      expect(firing!.pipelineRun).toMatch(/^pr-[0-9a-f]{12}$/);
      const run = await client.getPipelineRun(firing!.pipelineRun!);
      expect(run).toMatchObject({ pipeline: 'retrain', trigger: 'schedule:nightly', params: { C: 0.5, solver: 'lbfgs', fast: false } });
      await expect.poll(async () => (await client.getPipelineRun(run.id)).status, { timeout: 20_000 }).toBe('succeeded');
      expect((await client.pipelineLogs(run.id)).lines.map((l) => l.text).join('')).toContain('C=0.5');
      expect((await client.getSchedule('nightly')).nextSlot).toBe(Date.parse('2025-03-02T22:41:00Z'));
      const events = await client.readEvents({ types: ['schedule.fired'] });
      expect(events.events.map((e) => [e.payload, e.actor])).toEqual([[{ schedule: 'nightly', slot: Date.parse('2025-03-01T22:41:00Z'), pipeline_run: run.id, skipped: null }, 'schedule:nightly']]);
    } finally {
      await app.close();
      await platform.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('fires the pipeline engine by default, and no scheduler when told not to (scheduleTarget: null)', async () => {
    const home = freshHome();
    const platform = await openPlatform({ home }, { logger: createLogger({ level: 'silent' }), scheduleTarget: null });
    const engine = await openPlatform({ home }, { logger: createLogger({ level: 'silent' }) });
    try {
      expect(platform.scheduler).toBeUndefined();
      expect(engine.scheduler).toBeDefined();
      await engine.close();
    } finally {
      await platform.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('fluxops schedules (the CLI, locally and with --url)', () => {
  let s: TestServer;
  let dir: string;
  let specFile: string;
  const tz = process.env.TZ;
  beforeAll(async () => {
    s = await startTestServer({ auth: 'required' });
    dir = freshHome('fluxops-schedules-cli-');
    specFile = path.join(dir, 'retrain.yaml');
    fs.writeFileSync(specFile, SPEC);
    // A zone with a half-hour offset, so the local column cannot pass for UTC.
    process.env.TZ = 'Asia/Kolkata';
  });
  afterAll(async () => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['local', 'url'] as const) {
    it(`create, list (local and UTC times), pause, resume, delete — ${mode}`, async () => {
      const where = mode === 'url' ? ['--url', s.url, '--api-key', s.key] : ['--home', path.join(dir, 'home')];
      const created = await cli(...where, 'schedules', 'create', 'nightly', '--pipeline', specFile, '--cron', '41 22 * * *', '--param', 'C=0.1', '--param', 'solver=saga', '--overlap', 'queue', '--catch-up', 'latest');
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(/created schedule nightly/);
      expect(created.stdout).toMatch(/next firing\s+\d{4}-\d\d-\d\d 04:11 \+05:30 \(local\) · \d{4}-\d\d-\d\d 22:41Z/);
      expect(created.stdout).toMatch(/params\s+C=0\.1 solver=saga/);

      const list = await cli(...where, 'schedules', 'list');
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/next \(local\).*next \(UTC\)/);
      expect(list.stdout).toMatch(/nightly.*41 22 \* \* \*.*UTC.*retrain.*queue.*latest.*active.*04:11 \+05:30.*22:41Z/);

      const json = await cli(...where, '--json', 'schedules', 'list');
      const parsed = JSON.parse(json.stdout) as Schedule[];
      expect(parsed).toHaveLength(1);
      expect(parsed[0]).toMatchObject({ name: 'nightly', params: { C: '0.1', solver: 'saga' }, pipelineSpec: SPEC, overlap: 'queue', catchUp: 'latest' });

      const paused = await cli(...where, 'schedules', 'pause', 'nightly');
      expect(paused.stdout).toMatch(/schedule nightly is paused/);
      expect((await cli(...where, 'schedules', 'list')).stdout).toMatch(/nightly.*paused/);
      const resumed = await cli(...where, 'schedules', 'resume', 'nightly');
      expect(resumed.stdout).toMatch(/schedule nightly is active; next firing .*04:11 \+05:30 \(local\) · .*22:41Z/);
      const shown = await cli(...where, 'schedules', 'show', 'nightly');
      expect(shown.stdout).toMatch(/no firings yet/);

      const refused = await cli(...where, 'schedules', 'create', 'bad', '--pipeline', specFile, '--cron', '41 22 * *');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^error: cron '41 22 \* \*' must have five fields/);
      const noFile = await cli(...where, 'schedules', 'create', 'bad', '--pipeline', path.join(dir, 'missing.yaml'), '--cron', '0 * * * *');
      expect(noFile.code).toBe(2);
      expect(noFile.stderr).toMatch(/--pipeline: cannot read .*missing\.yaml \(no such file\)/);

      const deleted = await cli(...where, 'schedules', 'delete', 'nightly');
      expect(deleted.stdout).toMatch(/deleted schedule nightly/);
      const gone = await cli(...where, 'schedules', 'pause', 'nightly');
      expect(gone.code).toBe(3);
      expect((await cli(...where, 'schedules', 'list')).stdout).toMatch(/no schedules yet/);
    });
  }
});
