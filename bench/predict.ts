/**
 * Predict throughput: FluxOps' /api/predict against a bare node:http server doing the minimum
 * (parse the JSON body, answer a same-sized JSON response), both as child processes loaded by
 * autocannon from this process with the same one-record body. Target: FluxOps ≥ 0.7 × bare.
 */
import fs from 'node:fs';
import path from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { openPlatform } from '../src/platform.js';
import { generateDiabetesCsv } from '../src/training/index.js';
import { trainAndTrack } from '../src/workflows/index.js';
import { fmt, isMain, machine, requireBuild, ROOT, seconds, spawnListening, startFluxServer, tempHome } from './support.js';

export const PREDICT_TARGET_RATIO = 0.7;
const CONNECTIONS = 32;
const ROUNDS = 2;

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
  fluxops: LoadFigures;
  bare: LoadFigures;
  ratio: number;
  pass: boolean;
}

/** 2xx response times (fractional ms) and counts gathered over one or more load rounds. */
class Samples {
  private times = new Float64Array(1 << 20);
  private n = 0;
  ok = 0;
  seconds = 0;
  errors = 0;
  non2xx = 0;

  add(ms: number): void {
    if (this.n === this.times.length) {
      const bigger = new Float64Array(this.times.length * 2);
      bigger.set(this.times);
      this.times = bigger;
    }
    this.times[this.n++] = ms;
  }

  figures(): LoadFigures {
    const sorted = this.times.subarray(0, this.n).sort();
    const pct = (q: number): number => (this.n === 0 ? NaN : sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!);
    return { requestsPerSecond: this.ok / this.seconds, p50Ms: pct(0.5), p99Ms: pct(0.99), errors: this.errors, non2xx: this.non2xx };
  }
}

/**
 * One round of load. autocannon's own latency histogram has a resolution of one millisecond, too
 * coarse for a sub-millisecond endpoint, so every 2xx response time it reports (fractional ms,
 * from hrtime) is kept and the percentiles are taken from those.
 */
async function load(opts: { url: string; headers: Record<string, string>; body: string; duration: number }, into?: Samples): Promise<void> {
  const instance = autocannon({ url: opts.url, method: 'POST', headers: opts.headers, body: opts.body, connections: CONNECTIONS, duration: opts.duration });
  if (into !== undefined) {
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) into.add(ms);
    });
  }
  const r: Result = await instance;
  if (into !== undefined) {
    into.ok += r['2xx'];
    into.seconds += r.duration;
    into.errors += r.errors + r.timeouts;
    into.non2xx += r.non2xx;
  }
}

/** A home with the demo model registered as diabetes@production and one API key. */
async function prepareHome(home: string): Promise<{ key: string; features: string[] }> {
  const platform = await openPlatform({ home });
  try {
    const trained = await trainAndTrack(platform.tracking, platform.registry, {
      csvText: generateDiabetesCsv(2000, 1),
      dataSource: 'generated:diabetes',
      target: 'Diabetic',
      register: 'diabetes',
      aliases: ['production'],
    });
    const { key } = await platform.keys.create('bench');
    return { key, features: trained.training.model.signature.inputs.map((i) => i.name) };
  } finally {
    await platform.close();
  }
}

export async function runPredictBench(log: (line: string) => void = console.log): Promise<PredictReport> {
  requireBuild();
  const durationS = seconds('BENCH_DURATION', 10);
  const warmupS = Math.min(3, durationS);
  const home = tempHome('fluxops-bench-predict-');
  const children: Array<{ stop(): Promise<void> }> = [];
  try {
    const { key, features } = await prepareHome(home);
    const sample: Record<string, number> = { Pregnancies: 2, PlasmaGlucose: 118, DiastolicBloodPressure: 72, TricepsThickness: 28, SerumInsulin: 120, BMI: 31.2, DiabetesPedigree: 0.42, Age: 33 };
    const body = JSON.stringify({ inputs: [Object.fromEntries(features.map((f, j) => [f, sample[f] ?? j]))] });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };

    const flux = await startFluxServer(home, ['--model', 'diabetes@production']);
    children.push(flux);
    const probe = await fetch(`${flux.url}/api/predict`, { method: 'POST', headers, body });
    const template = await probe.text();
    if (probe.status !== 200) throw new Error(`FluxOps predict answered ${probe.status}: ${template}`);
    const bare = await spawnListening([path.join(ROOT, 'dist-bench', 'bench', 'bare-server.js')], { BARE_RESPONSE_TEMPLATE: template }, 'bare server');
    children.push(bare);
    const bareProbe = await fetch(bare.url, { method: 'POST', headers, body });
    const bareText = await bareProbe.text();
    if (bareProbe.status !== 200) throw new Error(`bare server answered ${bareProbe.status}`);

    log(`predict: ${machine()}`);
    log(`predict: body ${Buffer.byteLength(body)} B (one record); responses ${Buffer.byteLength(template)} B (FluxOps) / ${Buffer.byteLength(bareText)} B (bare); ${CONNECTIONS} connections, ${warmupS} s warm-up, then ${durationS} s each in ${ROUNDS} interleaved rounds`);
    const fluxUrl = `${flux.url}/api/predict`;
    await load({ url: fluxUrl, headers, body, duration: warmupS });
    await load({ url: bare.url, headers, body, duration: warmupS });
    // Interleaved halves (bare, FluxOps, bare, FluxOps) so that a change in the machine's load
    // during the run weighs on both servers alike instead of on whichever ran second.
    const bareSamples = new Samples();
    const fluxSamples = new Samples();
    for (let round = 0; round < ROUNDS; round++) {
      await load({ url: bare.url, headers, body, duration: durationS / ROUNDS }, bareSamples);
      await load({ url: fluxUrl, headers, body, duration: durationS / ROUNDS }, fluxSamples);
    }
    const bareResult = bareSamples.figures();
    const fluxResult = fluxSamples.figures();
    const ratio = fluxResult.requestsPerSecond / bareResult.requestsPerSecond;
    const pass = ratio >= PREDICT_TARGET_RATIO;
    for (const [name, f] of [
      ['FluxOps', fluxResult],
      ['bare   ', bareResult],
    ] as const) {
      log(`predict: ${name} ${fmt(f.requestsPerSecond)} req/s   p50 ${fmt(f.p50Ms, 3)} ms   p99 ${fmt(f.p99Ms, 3)} ms   errors ${f.errors}   non-2xx ${f.non2xx}`);
    }
    log(`predict: ratio FluxOps/bare = ${ratio.toFixed(3)} (target ≥ ${PREDICT_TARGET_RATIO}): ${pass ? 'PASS' : 'BELOW TARGET'}`);
    return { machine: machine(), durationS, connections: CONNECTIONS, fluxops: fluxResult, bare: bareResult, ratio, pass };
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
