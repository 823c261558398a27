/**
 * Serving speed. Every server is a child process, loaded by wrk (or autocannon in a child process
 * without it) with the same one-record body, in interleaved rounds so that a change in the
 * machine's load weighs on each alike. Figures:
 *
 * - `/api/predict` (a `--model` server) and endpoint predict through two deployments at 50/50,
 *   each against a bare node:http server that parses the body and answers a JSON of the same
 *   size. Target: endpoint predict ≥ 0.7 × bare.
 * - Router overhead: p50 latency of endpoint predict minus that of `/api/predict` on the same
 *   server (the direct predictor), one connection. Target ≤ 0.3 ms.
 * - Inference logging: the same split with every request logged to the inference table (the
 *   default) against a copy of it that logs nothing (sample rate 0). Target: logged ≥ 0.9 ×
 *   unlogged.
 * - `--workers 2` against `--workers 1`, endpoint predict.
 * - An ONNX model (the export of the trained model) through an endpoint, with and without
 *   micro-batching.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openPlatform } from '../src/platform.js';
import { FluxClient } from '../src/client/index.js';
import { exportToOnnx, onnxMlmodelText, parseModel, planOnnxModel } from '../src/models/index.js';
import { autocannonChild, hasWrk, wrk, type LoadResult } from './load.js';
import { generateDiabetesCsv } from '../src/training/index.js';
import { trainAndTrack } from '../src/workflows/index.js';
import { fmt, isMain, machine, requireBuild, ROOT, seconds, spawnListening, startFluxServer, tempHome, type Child } from './support.js';

export const PREDICT_TARGET_RATIO = 0.7;
export const ROUTER_OVERHEAD_TARGET_MS = 0.3;
export const INFERENCE_LOG_TARGET_RATIO = 0.9;
const CONNECTIONS = 32;
const ROUNDS = 12;
const BATCHING = { maxBatch: 32, maxWaitMs: 2 };

export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export interface PredictReport {
  machine: string;
  durationS: number;
  connections: number;
  bare: LoadFigures;
  /** `/api/predict` on a `--model` server. */
  fluxops: LoadFigures;
  ratio: number;
  /** Endpoint predict through blue=50 green=50. */
  endpoint: LoadFigures;
  endpointRatio: number;
  pass: boolean;
  router: { directP50Ms: number; endpointP50Ms: number; overheadMs: number; pass: boolean };
  /** `endpoint` logs every request; `unlogged` is the same split with sampling 0. */
  inferenceLog: { unlogged: LoadFigures; ratio: number; written: number; dropped: number; pass: boolean };
  workers: { one: LoadFigures; two: LoadFigures; ratio: number };
  onnx: { plain: LoadFigures; batched: LoadFigures; ratio: number; batches: number; rows: number };
}

/** The rounds of one server, summed; percentiles are the requests-weighted mean of the rounds'. */
class Rounds {
  private rounds: LoadResult[] = [];
  add(r: LoadResult): void {
    this.rounds.push(r);
  }
  figures(): LoadFigures {
    const requests = this.rounds.reduce((s, r) => s + r.requests, 0);
    const weighted = (f: (r: LoadResult) => number): number => this.rounds.reduce((s, r) => s + f(r) * r.requests, 0) / requests;
    const non2xx = this.rounds.reduce((s, r) => s + r.non2xx, 0);
    return {
      requestsPerSecond: (requests - non2xx) / this.rounds.reduce((s, r) => s + r.seconds, 0),
      p50Ms: weighted((r) => r.p50Ms),
      p99Ms: weighted((r) => r.p99Ms),
      errors: this.rounds.reduce((s, r) => s + r.socketErrors, 0),
      non2xx,
    };
  }
}

type Loader = (url: string, durationS: number, connections?: number) => Promise<LoadResult>;

/** wrk with a script that sends the body and headers, or autocannon in a child process. */
function loader(headers: Record<string, string>, body: string, scriptFile: string | undefined): Loader {
  if (scriptFile !== undefined) {
    const lua = [`wrk.method = "POST"`, `wrk.body = ${luaString(body)}`, ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)].join('\n');
    fs.writeFileSync(scriptFile, `${lua}\n`);
    return (url, durationS, connections = CONNECTIONS) => wrk({ url, connections, durationS, scriptFile });
  }
  return (url, durationS, connections = CONNECTIONS) => autocannonChild({ url, method: 'POST', headers, body, connections, durationS });
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Runs each target in turn, `ROUNDS` times, each round `durationS / ROUNDS`, after a warm-up of each. */
async function interleaved(load: Loader, urls: string[], durationS: number, warmupS: number, connections = CONNECTIONS): Promise<LoadFigures[]> {
  for (const u of urls) await load(u, warmupS, connections);
  const rounds = urls.map(() => new Rounds());
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < urls.length; i++) rounds[i]!.add(await load(urls[i]!, durationS / ROUNDS, connections));
  return rounds.map((x) => x.figures());
}

/** A home with diabetes v1 (@production) and v2, and a predict key. */
async function prepareHome(home: string): Promise<{ key: string; features: string[] }> {
  const platform = await openPlatform({ home });
  try {
    let features: string[] = [];
    for (const [seed, aliases] of [
      [1, ['production']],
      [2, []],
    ] as const) {
      const trained = await trainAndTrack(platform.tracking, platform.registry, {
        csvText: generateDiabetesCsv(2000, seed),
        dataSource: 'generated:diabetes',
        target: 'Diabetic',
        register: 'diabetes',
        aliases: [...aliases],
      });
      features = trained.training.model.signature.inputs.map((i) => i.name);
    }
    const { key } = await platform.keys.create('bench', { role: 'admin' });
    return { key, features };
  } finally {
    await platform.close();
  }
}

/** Endpoints `split` (blue=diabetes/1 50, green=diabetes/2 50) and `onnx` (plain and batched deployments of the ONNX export of diabetes/1). */
async function prepareEndpoints(url: string, key: string): Promise<void> {
  const client = new FluxClient({ url, apiKey: key });
  const call = async (method: string, p: string, body: unknown) => {
    const res = await fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  };
  // The ONNX export of diabetes/1, registered as diabetes-onnx/1.
  const v1 = await client.getModelVersion('diabetes', 1);
  const onnx = exportToOnnx(parseModel((await client.readArtifact(v1.runId, 'model/fluxops-model.json')).toString('utf8')));
  const run = await client.createRun({ experimentId: '0', runName: 'diabetes-onnx' });
  await client.logArtifact(run.info.runId, 'model/model.onnx', Buffer.from(onnx));
  await client.logArtifact(run.info.runId, 'model/MLmodel', onnxMlmodelText({ signature: planOnnxModel(onnx, 'export').signature }));
  await client.endRun(run.info.runId, 'FINISHED');
  await client.registerModel({ name: 'diabetes-onnx', source: `runs:/${run.info.runId}/model`, runId: run.info.runId });

  await call('POST', '/api/v1/endpoints', { name: 'split' });
  await call('PUT', '/api/v1/endpoints/split/deployments/blue', { model: 'diabetes/1' });
  await call('PUT', '/api/v1/endpoints/split/deployments/green', { model: 'diabetes/2' });
  await call('PUT', '/api/v1/endpoints/split/traffic', { traffic: { blue: 50, green: 50 } });
  await call('POST', '/api/v1/endpoints', { name: 'split-unlogged', inferenceLog: { sampleRate: 0 } });
  await call('PUT', '/api/v1/endpoints/split-unlogged/deployments/blue', { model: 'diabetes/1' });
  await call('PUT', '/api/v1/endpoints/split-unlogged/deployments/green', { model: 'diabetes/2' });
  await call('PUT', '/api/v1/endpoints/split-unlogged/traffic', { traffic: { blue: 50, green: 50 } });
  await call('POST', '/api/v1/endpoints', { name: 'onnx' });
  await call('PUT', '/api/v1/endpoints/onnx/deployments/plain', { model: 'diabetes-onnx/1' });
  await call('PUT', '/api/v1/endpoints/onnx/deployments/batched', { model: 'diabetes-onnx/1', batching: BATCHING });
}

/** Waits until the server answers 200 on the URL with the headers (it loads endpoints from the store). */
async function ready(url: string, headers: Record<string, string>, body: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 300; i++) {
    const res = await fetch(url, { method: 'POST', headers, body });
    last = await res.text();
    if (res.status === 200) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer 200: ${last}`);
}

export async function runPredictBench(log: (line: string) => void = console.log): Promise<PredictReport> {
  requireBuild();
  const durationS = seconds('BENCH_DURATION', 12);
  const warmupS = Math.min(3, durationS);
  const home = tempHome('fluxops-bench-predict-');
  const children: Child[] = [];
  try {
    const { key, features } = await prepareHome(home);
    const sample: Record<string, number> = { Pregnancies: 2, PlasmaGlucose: 118, DiastolicBloodPressure: 72, TricepsThickness: 28, SerumInsulin: 120, BMI: 31.2, DiabetesPedigree: 0.42, Age: 33 };
    const body = JSON.stringify({ inputs: [Object.fromEntries(features.map((f, j) => [f, sample[f] ?? j]))] });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };

    const flux = await startFluxServer(home, ['--model', 'diabetes@production']);
    children.push(flux);
    await prepareEndpoints(flux.url, key);
    const directUrl = `${flux.url}/api/predict`;
    const endpointUrl = `${flux.url}/api/v1/endpoints/split/predict`;
    await ready(directUrl, headers, body);
    const template = await ready(endpointUrl, headers, body);
    const unloggedUrl = `${flux.url}/api/v1/endpoints/split-unlogged/predict`;
    await ready(unloggedUrl, headers, body);
    const bare = await spawnListening([path.join(ROOT, 'dist-bench', 'bench', 'bare-server.js')], { BARE_RESPONSE_TEMPLATE: template }, 'bare server');
    children.push(bare);
    const bareText = await ready(bare.url, headers, body);

    const scripts = hasWrk() ? (name: string) => path.join(home, `${name}.lua`) : () => undefined;
    const load = loader(headers, body, scripts('predict'));
    log(`predict: ${machine()}`);
    log(
      `predict: body ${Buffer.byteLength(body)} B (one record); responses ${Buffer.byteLength(template)} B (endpoint) / ${Buffer.byteLength(bareText)} B (bare); ${CONNECTIONS} connections, ` +
        `${warmupS} s warm-up, then ${durationS} s each in ${ROUNDS} interleaved rounds; load from ${hasWrk() ? 'wrk (one thread)' : 'autocannon in a child process (wrk not installed)'}`,
    );

    // 1. Throughput against the bare server.
    const [bareF, directF, endpointF, unloggedF] = await interleaved(load, [bare.url, directUrl, endpointUrl, unloggedUrl], durationS, warmupS);
    const ratio = directF!.requestsPerSecond / bareF!.requestsPerSecond;
    const endpointRatio = endpointF!.requestsPerSecond / bareF!.requestsPerSecond;
    const pass = endpointRatio >= PREDICT_TARGET_RATIO;
    const line = (name: string, f: LoadFigures) => log(`predict: ${name.padEnd(34)} ${fmt(f.requestsPerSecond).padStart(7)} req/s   p50 ${fmt(f.p50Ms, 3)} ms   p99 ${fmt(f.p99Ms, 3)} ms   errors ${f.errors}   non-2xx ${f.non2xx}`);
    line('bare node:http', bareF!);
    line('/api/predict (--model)', directF!);
    line('endpoint predict (blue 50, green 50)', endpointF!);
    line('same split, not logged (sample 0)', unloggedF!);
    log(`predict: ratio /api/predict / bare = ${ratio.toFixed(3)}`);
    log(`predict: ratio endpoint predict / bare = ${endpointRatio.toFixed(3)} (target ≥ ${PREDICT_TARGET_RATIO}): ${pass ? 'PASS' : 'BELOW TARGET'}`);

    // 1b. Inference logging at full sampling against none, on the same server and load.
    await new Promise((r) => setTimeout(r, 1000));
    const metricsText = await (await fetch(`${flux.url}/metrics`, { headers })).text();
    const series = (re: RegExp): number => [...metricsText.matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
    const written = series(/^fluxops_inference_log_records_total\{endpoint="split"\} (\S+)$/gm);
    const dropped = series(/^fluxops_inference_log_dropped_total\{endpoint="split",[^}]*\} (\S+)$/gm);
    const logRatio = endpointF!.requestsPerSecond / unloggedF!.requestsPerSecond;
    const logPass = logRatio >= INFERENCE_LOG_TARGET_RATIO;
    log(`inference log: ${fmt(written)} requests written to the inference table, ${fmt(dropped)} dropped by back-pressure`);
    log(`inference log: ratio logged / unlogged = ${logRatio.toFixed(3)} (target ≥ ${INFERENCE_LOG_TARGET_RATIO}): ${logPass ? 'PASS' : 'BELOW TARGET'}`);

    // 2. Router overhead: one connection, so latency is service time, not queueing.
    const [directOne, endpointOne] = await interleaved(load, [directUrl, endpointUrl], Math.max(4, durationS / 2), 1, 1);
    const overheadMs = endpointOne!.p50Ms - directOne!.p50Ms;
    const routerPass = overheadMs <= ROUTER_OVERHEAD_TARGET_MS;
    log(`router: one connection: /api/predict p50 ${fmt(directOne!.p50Ms, 3)} ms, endpoint predict p50 ${fmt(endpointOne!.p50Ms, 3)} ms`);
    log(`router: overhead p50 = ${fmt(overheadMs, 3)} ms (target ≤ ${ROUTER_OVERHEAD_TARGET_MS} ms): ${routerPass ? 'PASS' : 'ABOVE TARGET'}`);

    // 3. --workers 2 against --workers 1, on the same home, the other servers idle.
    await bare.stop();
    const two = await startFluxServer(home, ['--model', 'diabetes@production', '--workers', '2']);
    children.push(two);
    const twoUrl = `${two.url}/api/v1/endpoints/split/predict`;
    await ready(twoUrl, headers, body);
    const [oneW, twoW] = await interleaved(load, [endpointUrl, twoUrl], durationS, warmupS);
    const workersRatio = twoW!.requestsPerSecond / oneW!.requestsPerSecond;
    line('endpoint predict, --workers 1', oneW!);
    line('endpoint predict, --workers 2', twoW!);
    log(`workers: ratio --workers 2 / --workers 1 = ${workersRatio.toFixed(3)} (${machine().split(',')[0]}; the load generator shares the cores)`);
    await two.stop();

    // 4. ONNX through an endpoint, without and with micro-batching.
    const onnxUrl = `${flux.url}/api/v1/endpoints/onnx/predict`;
    const plainLoad = loader({ ...headers, 'x-fluxops-deployment': 'plain' }, body, scripts('onnx-plain'));
    const batchedLoad = loader({ ...headers, 'x-fluxops-deployment': 'batched' }, body, scripts('onnx-batched'));
    await ready(onnxUrl, { ...headers, 'x-fluxops-deployment': 'batched' }, body);
    await plainLoad(onnxUrl, warmupS);
    await batchedLoad(onnxUrl, warmupS);
    const plainR = new Rounds();
    const batchedR = new Rounds();
    for (let r = 0; r < ROUNDS; r++) {
      plainR.add(await plainLoad(onnxUrl, durationS / ROUNDS));
      batchedR.add(await batchedLoad(onnxUrl, durationS / ROUNDS));
    }
    const status = (await (await fetch(`${flux.url}/api/v1/endpoints/onnx`, { headers })).json()) as { status: Array<{ name: string; batched: { batches: number; rows: number } | null }> };
    const batchedStatus = status.status.find((d) => d.name === 'batched')?.batched ?? { batches: 0, rows: 0 };
    const onnxRatio = batchedR.figures().requestsPerSecond / plainR.figures().requestsPerSecond;
    line('ONNX endpoint, no batching', plainR.figures());
    line(`ONNX endpoint, batching ${BATCHING.maxBatch} rows / ${BATCHING.maxWaitMs} ms`, batchedR.figures());
    log(`onnx: ratio batched / unbatched = ${onnxRatio.toFixed(3)}; ${fmt(batchedStatus.rows)} rows in ${fmt(batchedStatus.batches)} ONNX runs (${fmt(batchedStatus.rows / Math.max(1, batchedStatus.batches), 1)} rows per run)`);

    return {
      machine: machine(),
      durationS,
      connections: CONNECTIONS,
      bare: bareF!,
      fluxops: directF!,
      ratio,
      endpoint: endpointF!,
      endpointRatio,
      pass,
      router: { directP50Ms: directOne!.p50Ms, endpointP50Ms: endpointOne!.p50Ms, overheadMs, pass: routerPass },
      inferenceLog: { unlogged: unloggedF!, ratio: logRatio, written, dropped, pass: logPass },
      workers: { one: oneW!, two: twoW!, ratio: workersRatio },
      onnx: { plain: plainR.figures(), batched: batchedR.figures(), ratio: onnxRatio, batches: batchedStatus.batches, rows: batchedStatus.rows },
    };
  } finally {
    for (const c of children.reverse()) await c.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  runPredictBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
