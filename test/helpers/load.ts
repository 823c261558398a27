/**
 * A load generator in a process of its own: four loops predicting through an endpoint without
 * pause, cycling over the rows, until SIGTERM; it prints how many answers were 200 (by the
 * deployment that answered) and how many failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadModel, MODEL_FILE, type LogisticModel } from '../../src/models/index.js';
import type { Platform } from '../../src/platform.js';
import { generateDiabetesCsv } from '../../src/training/index.js';

/**
 * Registers the next diabetes version as a model that answers 200 but always predicts the
 * majority class (0): diabetes/1 with its coefficients zeroed and its intercept far below zero.
 */
export async function seedMajorityClassModel(platform: Platform): Promise<string> {
  const mv = await platform.registry.getModelVersion('diabetes', '1');
  const good = (await loadModel(platform.artifacts, mv.storageLocation)) as LogisticModel;
  const run = await platform.tracking.createRun({ experimentId: '0', runName: 'majority-class' });
  await platform.tracking.logArtifact(run.info.runId, `model/${MODEL_FILE}`, JSON.stringify({ ...good, coefficients: good.coefficients.map(() => 0), intercept: -8 }));
  return (await platform.registry.registerModel({ name: 'diabetes', source: `runs:/${run.info.runId}/model`, runId: run.info.runId })).version;
}

/** `n` generated patients as predict records, with the inputs of diabetes/1. */
export async function inputRows(platform: Platform, n: number, seed: number): Promise<Array<Record<string, number>>> {
  const mv = await platform.registry.getModelVersion('diabetes', '1');
  const model = await loadModel(platform.artifacts, mv.storageLocation);
  const csv = generateDiabetesCsv(n, seed).trim().split('\n');
  const head = csv[0]!.split(',');
  const inputs = new Set(model.signature.inputs.map((x) => x.name));
  return csv.slice(1).map((line) => {
    const row: Record<string, number> = {};
    line.split(',').forEach((v, i) => {
      if (inputs.has(head[i]!)) row[head[i]!] = Number(v);
    });
    return row;
  });
}

const LOADER = `
const [url, key, rowsJson] = process.argv.slice(1);
const rows = JSON.parse(rowsJson);
let ok = 0, failed = 0, stop = false;
const byDeployment = {};
const failures = [];
process.on('SIGTERM', () => { stop = true; });
async function worker(w) {
  let i = w;
  while (!stop) {
    const input = rows[i++ % rows.length];
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key }, body: JSON.stringify({ inputs: [input] }) });
      const text = await res.text();
      if (res.status === 200) { ok++; const d = JSON.parse(text).deployment; byDeployment[d] = (byDeployment[d] ?? 0) + 1; }
      else { failed++; if (failures.length < 5) failures.push(res.status + ' ' + text); }
    } catch (e) { failed++; if (failures.length < 5) failures.push(String(e)); }
  }
}
await Promise.all([0, 1, 2, 3].map(worker));
console.log(JSON.stringify({ ok, failed, byDeployment, failures }));
`;

export interface LoadSummary {
  ok: number;
  failed: number;
  byDeployment: Record<string, number>;
  failures: string[];
}

export function startLoad(url: string, key: string, rows: unknown[]): { child: ChildProcess; done: Promise<LoadSummary> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', LOADER, url, key, JSON.stringify(rows)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<LoadSummary>((resolve, reject) => {
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadSummary);
      } catch (e) {
        reject(new Error(`load generator printed no summary: ${out}`, { cause: e }));
      }
    });
  });
  return { child, done };
}

