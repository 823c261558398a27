/**
 * Predict throughput: FluxOps' /api/predict against a bare node:http server doing the minimum
 * (parse the JSON body, answer a same-sized JSON response), both as child processes, loaded with
 * the same one-record body by wrk (or autocannon in a child process without it), in interleaved
 * rounds. Target: FluxOps ≥ 0.7 × bare.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openPlatform } from '../src/platform.js';
import { autocannonChild, hasWrk, wrk, type LoadResult } from './load.js';
import { generateDiabetesCsv } from '../src/training/index.js';
import { trainAndTrack } from '../src/workflows/index.js';
import { fmt, isMain, machine, requireBuild, ROOT, seconds, spawnListening, startFluxServer, tempHome } from './support.js';

export const PREDICT_TARGET_RATIO = 0.7;
const CONNECTIONS = 32;
const ROUNDS = 4;

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

type Loader = (url: string, durationS: number) => Promise<LoadResult>;

/** wrk with a script that sends the body, or autocannon in a child process. */
function loader(headers: Record<string, string>, body: string, scriptFile: string | undefined): Loader {
  if (scriptFile !== undefined) {
    const lua = [`wrk.method = "POST"`, `wrk.body = ${luaString(body)}`, ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)].join('\n');
    fs.writeFileSync(scriptFile, `${lua}\n`);
    return (url, durationS) => wrk({ url, connections: CONNECTIONS, durationS, scriptFile });
  }
  return (url, durationS) => autocannonChild({ url, method: 'POST', headers, body, connections: CONNECTIONS, durationS });
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
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

    const load = loader(headers, body, hasWrk() ? path.join(home, 'predict.lua') : undefined);
    log(`predict: ${machine()}`);
    log(`predict: body ${Buffer.byteLength(body)} B (one record); responses ${Buffer.byteLength(template)} B (FluxOps) / ${Buffer.byteLength(bareText)} B (bare); ${CONNECTIONS} connections, ${warmupS} s warm-up, then ${durationS} s each in ${ROUNDS} interleaved rounds; load from ${hasWrk() ? 'wrk (one thread)' : 'autocannon in a child process (wrk not installed)'}`);
    const fluxUrl = `${flux.url}/api/predict`;
    await load(fluxUrl, warmupS);
    await load(bare.url, warmupS);
    // Interleaved rounds (bare, FluxOps, bare, FluxOps …) so that a change in the machine's load
    // during the run weighs on both servers alike instead of on whichever ran second.
    const bareRounds = new Rounds();
    const fluxRounds = new Rounds();
    for (let round = 0; round < ROUNDS; round++) {
      bareRounds.add(await load(bare.url, durationS / ROUNDS));
      fluxRounds.add(await load(fluxUrl, durationS / ROUNDS));
    }
    const bareResult = bareRounds.figures();
    const fluxResult = fluxRounds.figures();
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
