/**
 * The issue's drift scenario on a real `fluxops server` (its job worker runs the triggered
 * pipeline), driven through the CLI and the API: the diabetes model is served, traffic drawn from
 * the training data is logged and judged free of drift; then traffic with PlasmaGlucose +10 and
 * BMI +3 drifts on exactly those columns, the dataset is flagged, `drift.detected` is emitted,
 * and the retraining pipeline of examples/monitoring starts and trains.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxClient } from '../../src/client/index.js';
import type { MonitorResult } from '../../src/monitoring/index.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { assertBuilt, ROOT, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

const SHARED = path.resolve(ROOT, '../shared/data/diabetes.csv');
const FEATURES = ['Pregnancies', 'PlasmaGlucose', 'DiastolicBloodPressure', 'TricepsThickness', 'SerumInsulin', 'BMI', 'DiabetesPedigree', 'Age'];

describe('drift: logged traffic, monitors, drift.detected, retraining', () => {
  const home = freshHome('fluxops-drift-');
  let server: ChildProcess;
  let url = '';
  let client: FluxClient;
  let csvFile = '';
  let rows: Array<Record<string, number>> = [];
  let labels: number[] = [];
  let predictKey = '';

  beforeAll(async () => {
    assertBuilt();
    // The shared diabetes data when it sits beside the checkout (CI), else the project's own generated data of the same shape.
    if (fs.existsSync(SHARED)) csvFile = SHARED;
    else {
      console.log(`drift test: ${SHARED} is absent; using generated diabetes data`);
      csvFile = path.join(home, 'diabetes.csv');
      fs.writeFileSync(csvFile, generateDiabetesCsv(10_000, 5));
    }
    const lines = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    labels = lines.slice(1).map((l) => Number(l.split(',')[head.indexOf('Diabetic')]));
    rows = lines.slice(1).map((l) => {
      const cells = l.split(',');
      return Object.fromEntries(FEATURES.map((f) => [f, Number(cells[head.indexOf(f)])]));
    });
    const t = await runCli(['--home', home, 'train', '--data', csvFile, '--target', 'Diabetic', '--exclude', 'PatientID', '--register', 'diabetes', '--alias', 'production'], { timeoutMs: 120_000 });
    expect(t.code, t.stderr).toBe(0);
    const k = await runCli(['--home', home, '--json', 'keys', 'create', 'scorer', '--role', 'predict']);
    expect(k.code, k.stderr).toBe(0);
    predictKey = (JSON.parse(k.stdout) as { key: string }).key;
    const s = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/\S+)/, { env: { FLUXOPS_MONITOR_TICK_MS: '200' } });
    server = s.child;
    url = s.match[1]!;
    client = new FluxClient({ url });
    await client.createEndpoint({ name: 'diabetes-prod' });
    await client.deploy('diabetes-prod', { name: 'blue', model: 'diabetes@production' });
    // The retraining pipeline, on the data the test trained on.
    const spec = fs.readFileSync(path.join(ROOT, 'examples/monitoring/retrain-on-drift.yaml'), 'utf8').replace('default: ../../../shared/data/diabetes.csv', `default: ${JSON.stringify(csvFile)}`);
    const specFile = path.join(home, 'retrain-on-drift.yaml');
    fs.writeFileSync(specFile, spec);
    const reg = await runCli(['--url', url, 'pipelines', 'register', specFile]);
    expect(reg.code, reg.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    if (server) await stop(server);
    fs.rmSync(home, { recursive: true, force: true });
  });

  /** Sends `n` rows (10 per request) drawn from the data, shifted by `shift`; returns the request ids. */
  async function traffic(n: number, offset: number, shift: Partial<Record<string, number>> = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < n; start += 10) {
      const inputs = rows.slice(offset + start, offset + start + 10).map((r) => {
        const out = { ...r };
        for (const [k, d] of Object.entries(shift)) out[k] = out[k]! + d!;
        return out;
      });
      const id = `drift-${offset + start}`;
      const res = await fetch(`${url}/api/v1/endpoints/diabetes-prod/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id, authorization: `Bearer ${predictKey}` }, body: JSON.stringify({ inputs }) });
      expect(res.status).toBe(200);
      ids.push(id);
    }
    return ids;
  }

  const logged = async (since: string): Promise<number> => {
    let total = 0;
    let before: number | undefined;
    for (;;) {
      const page = await client.listInferences({ endpoint: 'diabetes-prod', since, limit: 1000, before });
      total += page.inferences.reduce((s, r) => s + r.rows, 0);
      if (page.next === null) return total;
      before = page.next;
    }
  };

  it('logs every prediction with its inputs, outputs, version and latency; exports and labels them', async () => {
    await traffic(20, 0);
    await expect.poll(() => logged('1h'), { timeout: 10_000 }).toBe(20);
    const { inferences } = await client.listInferences({ endpoint: 'diabetes-prod', limit: 1 });
    expect(inferences[0]).toMatchObject({ requestId: 'drift-10', deployment: 'blue', model: 'diabetes', version: '1', status: 200, rows: 10, error: null });
    expect((inferences[0]!.inputs as { inputs: unknown[] }).inputs[0]).toEqual(rows[10]);
    expect(inferences[0]!.outputs).toMatchObject({ classes: [0, 1] });
    const csv = await runCli(['--url', url, 'inferences', 'export', '--endpoint', 'diabetes-prod', '--since', '1h', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe(`seq,time,endpoint,deployment,request_id,model,version,status,latency_ms,row,${FEATURES.join(',')},prediction,p_0,p_1,error`);
    const labelFile = path.join(home, 'labels.csv');
    fs.writeFileSync(labelFile, 'request_id,row,label\ndrift-0,0,1\ndrift-0,1,0\nnever-sent,0,1\n');
    const lab = await runCli(['--url', url, '--json', 'inferences', 'label', '--endpoint', 'diabetes-prod', '--file', labelFile]);
    expect(lab.code, lab.stderr).toBe(0);
    expect(JSON.parse(lab.stdout)).toEqual({ written: 3, matched: 2 });
    const badLabels = await runCli(['--url', url, 'inferences', 'label', '--endpoint', 'diabetes-prod', '--request-id', 'bad id!', '--label', '1']);
    expect(badLabels.code).toBe(2);
    expect(badLabels.stderr).toContain('request_id must be a request id');
  });

  it('no drift on traffic from the training distribution; drift on PlasmaGlucose and BMI when they shift, drift.detected, and a retraining run', async () => {
    // A short window, so the shifted traffic is judged apart from the unshifted: 2 of 8 columns shift, hence a share of 0.25.
    const made = await runCli(['--url', url, 'monitors', 'create', 'diabetes-drift', '--endpoint', 'diabetes-prod', '--window', '4s', '--min-rows', '500', '--drift-share', '0.25']);
    expect(made.code, made.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 4000));
    const t0 = Date.now();
    await traffic(1500, 100);
    await expect.poll(() => logged(String(t0)), { timeout: 10_000 }).toBe(1500);
    const calm = await runCli(['--url', url, '--json', 'monitors', 'run', 'diabetes-drift']);
    expect(calm.code, calm.stderr).toBe(0);
    const ok = JSON.parse(calm.stdout) as MonitorResult;
    console.log(`no shift: ${Object.entries(ok.columns).map(([c, r]) => `${c} ${r.method} ${r.statistic.toFixed(3)}`).join(', ')}`);
    expect(ok).toMatchObject({ status: 'ok', rows: 1500, reference: { model: 'diabetes', version: '1', source: 'model folder' }, predictionDrift: false });
    expect(ok.dataset).toMatchObject({ drifted: false, driftedColumns: [], columnCount: 8 });
    expect(ok.performance?.estimated?.rows).toBe(1500);

    await new Promise((r) => setTimeout(r, 4200));
    const t1 = Date.now();
    await traffic(1500, 3000, { PlasmaGlucose: 10, BMI: 3 });
    await expect.poll(() => logged(String(t1)), { timeout: 10_000 }).toBe(1500);
    // The true labels of the shifted rows arrive (request_id,row,label), so realised performance stands beside the estimate.
    const csvLabels = ['request_id,row,label', ...Array.from({ length: 1500 }, (_, i) => `drift-${3000 + i - (i % 10)},${i % 10},${labels[3000 + i]}`)].join('\n');
    expect(await client.putLabels('diabetes-prod', csvLabels)).toEqual({ written: 1500, matched: 1500 });
    const run = await runCli(['--url', url, 'monitors', 'run', 'diabetes-drift', '--fail-on-drift']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('DRIFT on diabetes-prod: dataset drifted (2 of 8 columns: PlasmaGlucose, BMI)');
    const [drift] = await client.monitorResults('diabetes-drift', { limit: 1 });
    console.log(`shifted: ${Object.entries(drift!.columns).map(([c, r]) => `${c} ${r.method} ${r.statistic.toFixed(3)} psi ${r.psi.toFixed(3)}`).join(', ')}`);
    expect(drift).toMatchObject({ status: 'drift', dataset: { drifted: true, driftedColumns: ['PlasmaGlucose', 'BMI'] } });
    expect(drift!.columns.PlasmaGlucose).toMatchObject({ method: 'wasserstein', drifted: true });
    const perf = drift!.performance!;
    console.log(`shifted window: accuracy estimated (CBPE) ${perf.estimated!.accuracy.toFixed(4)}, realised ${perf.realised!.accuracy.toFixed(4)}; no-shift window estimated ${ok.performance!.estimated!.accuracy.toFixed(4)}`);
    expect(perf.realised!.rows).toBe(1500);
    expect(Math.abs(perf.estimated!.accuracy - perf.realised!.accuracy)).toBeLessThan(0.05);
    expect(run.stdout).toContain('realised (labelled rows)');

    const events = await client.readEvents({ types: ['drift.detected'] });
    expect(events.events.map((e) => e.payload)).toEqual([expect.objectContaining({ monitor: 'diabetes-drift', endpoint: 'diabetes-prod', dataset_drift: true, drifted_columns: ['PlasmaGlucose', 'BMI'], model: 'diabetes', version: '1' })]);
    // The trigger started the retraining pipeline; the server's job worker trains.
    await expect.poll(async () => (await client.listPipelineRuns({ pipeline: 'retrain-on-drift' })).length, { timeout: 20_000 }).toBe(1);
    const [retrain] = await client.listPipelineRuns({ pipeline: 'retrain-on-drift' });
    expect(retrain).toMatchObject({ trigger: 'event:drift.detected', params: { monitor: 'diabetes-drift', version: '1' } });
    await expect.poll(async () => (await client.getPipelineRun(retrain!.id)).steps.find((s) => s.step === 'train')?.status, { timeout: 90_000 }).toBe('succeeded');

    // The time series and the metrics.
    const series = await client.monitorResults('diabetes-drift');
    expect(series.map((r) => r.status)).toEqual(['drift', 'ok']);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/fluxops_monitor_dataset_drift\{monitor="diabetes-drift",endpoint="diabetes-prod"\} 1/);
    expect(metrics).toMatch(/fluxops_monitor_drift_share\{monitor="diabetes-drift",endpoint="diabetes-prod"\} 0\.25/);
    expect(metrics).toMatch(/fluxops_inference_log_records_total\{endpoint="diabetes-prod"\} 302/);
  }, 180_000);

  it('refuses bad monitor settings with the field named, and a schedule runs checks by itself', async () => {
    const bad = await runCli(['--url', url, 'monitors', 'create', 'x', '--endpoint', 'diabetes-prod', '--drift-share', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('driftShare must be <= 1');
    const noEndpoint = await runCli(['--url', url, 'monitors', 'create', 'y', '--endpoint', 'nowhere']);
    expect(noEndpoint.code).toBe(3);
    const every = await runCli(['--url', url, 'monitors', 'create', 'scheduled', '--endpoint', 'diabetes-prod', '--every', '1s']);
    expect(every.code).toBe(2);
    expect(every.stderr).toContain('every must be at least 10s');
    const made = await client.createMonitor({ name: 'scheduled', endpoint: 'diabetes-prod', every: '10s', window: '1h' });
    expect(made.nextRunAt).toBeGreaterThan(Date.now());
    await expect.poll(async () => (await client.monitorResults('scheduled')).length, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
    // A profile from a dataset the user names replaces the model folder's.
    const prof = await runCli(['--url', url, '--json', 'monitors', 'profile', 'diabetes/1', '--data', csvFile, '--target', 'Diabetic']);
    expect(prof.code, prof.stderr).toBe(0);
    expect(JSON.parse(prof.stdout)).toMatchObject({ model: 'diabetes', version: '1', rows: rows.length, columns: FEATURES });
    const stored = (await (await fetch(`${url}/api/v1/models/diabetes/versions/1/profile`)).json()) as { source: string; performance: { scores: number[] } };
    expect(stored.source).toBe(`dataset:${csvFile}`);
    expect(stored.performance.scores.length).toBe(5000);
    const badProfile = await runCli(['--url', url, 'monitors', 'profile', 'diabetes', '--data', csvFile]);
    expect(badProfile.code).toBe(2);
    const shown = await runCli(['--url', url, 'monitors', 'show', 'scheduled']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/every\s+10s/);
    expect(shown.stdout).toMatch(/^(no drift|DRIFT) on diabetes-prod/m);
  }, 60_000);
});
