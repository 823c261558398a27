import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

let home: string;
let dataFile: string;

beforeAll(() => {
  assertBuilt();
  home = freshHome('fluxops-cli-');
  dataFile = path.join(home, 'diabetes.csv');
  fs.writeFileSync(dataFile, generateDiabetesCsv(3000, 3));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['--home', home, ...args]);
const json = async <T>(...args: string[]): Promise<T> => {
  const r = await cli('--json', ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe('fluxops CLI on the local home', () => {
  it('has --help on every command', async () => {
    for (const args of [[], ['train'], ['runs', 'list'], ['models', 'alias', 'set'], ['predict'], ['keys', 'create'], ['server'], ['quickstart']]) {
      const r = await runCli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: fluxops');
    }
  });

  it('trains, detects the identifier column, records the run and registers the model', async () => {
    const r = await cli('train', '--data', dataFile, '--target', 'Diabetic', '--param', 'C=0.5', '--param', 'max_iter=200', '--register', 'diabetes', '--alias', 'production', '--experiment', 'cli');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('PatientID looks like an identifier');
    expect(r.stdout).toMatch(/registered\s+diabetes v1 \(production\)/);
    const out = await json<{ run: { info: { runId: string } }; version: { version: string } }>('train', '--data', dataFile, '--target', 'Diabetic', '--register', 'diabetes');
    expect(out.version.version).toBe('2');
  });

  it('lists and shows runs with filters, as tables and JSON', async () => {
    const page = await json<{ items: Array<{ info: { runId: string }; data: { params: Record<string, string> } }> }>('runs', 'list', '--experiment', 'cli', '--filter', "params.C = '0.5'");
    expect(page.items).toHaveLength(1);
    const runId = page.items[0]!.info.runId;
    const table = await cli('runs', 'list', '--order-by', 'metrics.f1 desc');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(runId);
    const shown = await cli('runs', 'show', runId);
    expect(shown.stdout).toContain('max_iter');
    expect(shown.stdout).toContain('model/');
    expect(shown.stdout).toContain('training-data');
  });

  it('shows models, versions with lineage, and moves aliases', async () => {
    const list = await cli('models', 'list');
    expect(list.stdout).toMatch(/diabetes.*production→v1/);
    const set = await cli('models', 'alias', 'set', 'diabetes', 'production', '2');
    expect(set.code, set.stderr).toBe(0);
    const model = await json<{ aliases: Array<{ alias: string; version: string }>; versions: unknown[] }>('models', 'show', 'diabetes');
    expect(model.aliases).toEqual([{ alias: 'production', version: '2' }]);
    expect(model.versions).toHaveLength(2);
    const lineage = await json<{ run: { params: Record<string, string> }; datasets: Array<{ digest: string }> }>('models', 'show', 'diabetes', '1');
    expect(lineage.run.params.C).toBe('0.5');
    expect(lineage.datasets).toHaveLength(1);
  });

  it('batch-scores a CSV file into input columns plus prediction and probability', async () => {
    const out = path.join(home, 'predictions.csv');
    const r = await json<{ rows: number; version: string }>('predict', '--model', 'diabetes@production', '--input', dataFile, '--output', out);
    expect(r).toMatchObject({ rows: 3000, version: '2' });
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3001);
    expect(lines[0]).toBe('PatientID,Pregnancies,PlasmaGlucose,DiastolicBloodPressure,TricepsThickness,SerumInsulin,BMI,DiabetesPedigree,Age,Diabetic,prediction,probability');
    const cells = lines[1]!.split(',');
    expect(['0', '1']).toContain(cells[10]);
    const p = Number(cells[11]);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  });

  it('creates, lists and revokes API keys; secrets are never listed', async () => {
    const created = await json<{ key: string; keyId: string }>('keys', 'create', 'ci');
    expect(created.key).toMatch(/^flx_[0-9a-f]{12}_/);
    const list = await cli('keys', 'list');
    expect(list.stdout).toContain(created.keyId);
    expect(list.stdout).not.toContain(created.key);
    expect((await cli('keys', 'revoke', created.keyId)).code).toBe(0);
    expect((await cli('keys', 'list')).stdout).toMatch(new RegExp(`${created.keyId}.*\\d{4}-\\d{2}-\\d{2}`));
  });

  it('fails with a sentence and a meaningful exit code', async () => {
    const missing = await cli('train', '--data', path.join(home, 'nope.csv'), '--target', 'x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: --data '.*nope\.csv': no such file\n$/);
    const badTarget = await cli('train', '--data', dataFile, '--target', 'Nope');
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toContain('Nope');
    const badParam = await cli('train', '--data', dataFile, '--target', 'Diabetic', '--param', 'solver=magic');
    expect(badParam.code).toBe(2);
    expect(badParam.stderr).toContain('lbfgs');
    const notFound = await cli('models', 'show', 'ghost');
    expect(notFound.code).toBe(3);
    const usage = await cli('runs', 'frobnicate');
    expect(usage.code).toBe(2);
    const ragged = path.join(home, 'ragged.csv');
    fs.writeFileSync(ragged, 'a,b,y\n1,2,0\n3,1\n');
    const r = await cli('train', '--data', ragged, '--target', 'y');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/row|line/);
  });
});

describe('fluxops CLI against a running server (--url)', () => {
  it('trains and registers remotely, then lists, moves aliases and scores through the API', async () => {
    const serverHome = freshHome('fluxops-cli-server-');
    const { child, match } = await startCli(['--home', serverHome, 'server', '--port', '0'], /listening on (http:\/\/[\d.]+:\d+)/);
    try {
      const url = match[1]!;
      const remote = (...args: string[]) => runCli(['--url', url, ...args], { env: { FLUXOPS_HOME: path.join(serverHome, 'not-used') } });
      const t = await remote('--json', 'train', '--data', dataFile, '--target', 'Diabetic', '--register', 'remote-model', '--alias', 'staging');
      expect(t.code, t.stderr).toBe(0);
      expect((JSON.parse(t.stdout) as { version: { version: string } }).version.version).toBe('1');
      expect((await remote('models', 'list')).stdout).toContain('staging→v1');
      const out = path.join(serverHome, 'remote-pred.csv');
      const p = await remote('predict', '--model', 'remote-model@staging', '--input', dataFile, '--output', out);
      expect(p.code, p.stderr).toBe(0);
      expect(fs.readFileSync(out, 'utf8').split('\n')).toHaveLength(3002);
      expect(fs.existsSync(path.join(serverHome, 'not-used'))).toBe(false);
      const unreachable = await runCli(['--url', 'http://127.0.0.1:9', 'models', 'list']);
      expect(unreachable.code).toBe(4);
    } finally {
      await stop(child);
      fs.rmSync(serverHome, { recursive: true, force: true });
    }
  });
});
