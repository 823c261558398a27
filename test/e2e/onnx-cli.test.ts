import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPredictor, loadModel, loadPredictor, onnxMlmodelText, planOnnxModel, type BuiltinModel } from '../../src/models/index.js';
import { openPlatform } from '../../src/platform.js';
import { LocalArtifactStore } from '../../src/storage/artifacts/index.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome, seedModel } from '../helpers/server.js';

/** `fluxops models export` and `fluxops predict` with ONNX, as child processes on a real home. */

let home: string;
let dataFile: string;
let builtin: BuiltinModel;

beforeAll(async () => {
  assertBuilt();
  home = freshHome('fluxops-onnx-cli-');
  dataFile = path.join(home, 'patients.csv');
  fs.writeFileSync(dataFile, generateDiabetesCsv(700, 5));
  const platform = await openPlatform({ home });
  try {
    const { version } = await seedModel(platform);
    builtin = await loadModel(platform.artifacts, version!.storageLocation);
  } finally {
    await platform.close();
  }
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['--home', home, ...args], { cwd: home });

async function predictorOf(file: string) {
  const dir = fs.mkdtempSync(path.join(home, 'load-'));
  fs.mkdirSync(path.join(dir, 'm'));
  fs.copyFileSync(file, path.join(dir, 'm', 'model.onnx'));
  return (await loadPredictor(new LocalArtifactStore(dir), 'm')).predictor;
}

describe('fluxops models export --format onnx', () => {
  it('writes a graph that predicts what the built-in model predicts (within 1e-5; measured here)', async () => {
    const out = path.join(home, 'exported.onnx');
    const r = await cli('--json', 'models', 'export', 'diabetes/1', '--format', 'onnx', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ model: 'diabetes', version: '1', format: 'onnx', output: out, classes: [0, 1], inputs: builtin.signature.inputs.map((i) => i.name) });
    expect(summary.bytes).toBe(fs.statSync(out).size);
    const onnx = await predictorOf(out);
    try {
      const lines = fs.readFileSync(dataFile, 'utf8').trim().split('\n');
      const header = lines[0]!.split(',');
      const cols = onnx.inputNames.map((n) => header.indexOf(n));
      const rows = lines.slice(1).map((l) => l.split(','));
      const X = Float64Array.from(rows.flatMap((r) => cols.map((c) => Number(r[c]))));
      const [a, b] = await Promise.all([createPredictor(builtin).predictMatrix(X, rows.length), onnx.predictMatrix(X, rows.length)]);
      let maxDiff = 0;
      for (let i = 0; i < a.probabilities!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.probabilities![i]! - b.probabilities![i]!));
      console.log(`fluxops models export: ${rows.length} rows, max |Δp| against the built-in model = ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-5);
      expect(b.labels).toEqual(a.labels);
    } finally {
      await onnx.close?.();
    }
  });

  it('names the file after the version by default, and prints a sentence for people', async () => {
    const r = await cli('models', 'export', 'diabetes@production');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('exported diabetes v1 as ONNX');
    expect(fs.existsSync(path.join(home, 'diabetes-v1.onnx'))).toBe(true);
  });

  it('refuses an unknown format, a missing version and an output folder with a sentence and exit code', async () => {
    const format = await cli('models', 'export', 'diabetes/1', '--format', 'pmml');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format 'pmml' is not supported; the export format is onnx");
    const missing = await cli('models', 'export', 'diabetes/9', '--format', 'onnx');
    expect(missing.code).toBe(3);
    const folder = await cli('models', 'export', 'diabetes/1', '--out', home);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('it is a folder');
    expect((await runCli(['models', 'export', '--help'])).stdout).toContain('--format <format>');
  });
});

describe('an exported model registered back and scored with fluxops predict', () => {
  beforeAll(async () => {
    const file = path.join(home, 'diabetes-v1.onnx');
    const bytes = fs.readFileSync(file);
    const platform = await openPlatform({ home });
    try {
      const run = await platform.tracking.createRun({ experimentId: '0', runName: 'onnx-export' });
      await platform.tracking.logArtifact(run.info.runId, 'model/model.onnx', bytes);
      await platform.tracking.logArtifact(run.info.runId, 'model/MLmodel', onnxMlmodelText({ signature: planOnnxModel(bytes, 'model.onnx').signature }));
      const mv = await platform.registry.registerModel({ name: 'diabetes-onnx', source: `runs:/${run.info.runId}/model`, runId: run.info.runId });
      await platform.registry.setAlias('diabetes-onnx', 'production', mv.version);
    } finally {
      await platform.close();
    }
  });

  it('scores a CSV file like the built-in version does', async () => {
    const a = path.join(home, 'builtin.csv');
    const b = path.join(home, 'onnx.csv');
    expect((await cli('predict', '--model', 'diabetes@production', '--input', dataFile, '--output', a)).code).toBe(0);
    const r = await cli('predict', '--model', 'diabetes-onnx@production', '--input', dataFile, '--output', b);
    expect(r.code, r.stderr).toBe(0);
    const left = fs.readFileSync(a, 'utf8').trim().split('\n');
    const right = fs.readFileSync(b, 'utf8').trim().split('\n');
    expect(right[0]).toBe(left[0]);
    expect(right).toHaveLength(701);
    for (let i = 1; i < left.length; i++) {
      const [l, r2] = [left[i]!.split(','), right[i]!.split(',')];
      expect(r2.slice(0, -1)).toEqual(l.slice(0, -1));
      expect(Math.abs(Number(r2.at(-1)) - Number(l.at(-1)))).toBeLessThan(1e-12);
    }
  });

  it('refuses to export a version that is already ONNX', async () => {
    const r = await cli('models', 'export', 'diabetes-onnx/1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds an ONNX model \(model\.onnx\), not a FluxOps model/);
  });

  it('exports and scores against a running server (--url)', async () => {
    const { child, match } = await startCli(['--home', home, 'server', '--port', '0'], /listening on (http:\/\/[\d.]+:\d+)/);
    try {
      const remote = (...args: string[]) => runCli(['--url', match[1]!, ...args], { cwd: home });
      const out = path.join(home, 'remote.onnx');
      const e = await remote('models', 'export', 'diabetes/1', '--out', out);
      expect(e.code, e.stderr).toBe(0);
      expect(fs.readFileSync(out).equals(fs.readFileSync(path.join(home, 'diabetes-v1.onnx')))).toBe(true);
      const scored = path.join(home, 'remote.csv');
      const p = await remote('predict', '--model', 'diabetes-onnx@production', '--input', dataFile, '--output', scored);
      expect(p.code, p.stderr).toBe(0);
      expect(fs.readFileSync(scored, 'utf8')).toBe(fs.readFileSync(path.join(home, 'onnx.csv'), 'utf8'));
    } finally {
      await stop(child);
    }
  });
});
