/**
 * The promotion gate outside pipelines: `fluxops train … --alias production --require-improvement
 * f1[:delta]` moves the alias only when the new model beats the version it points at, and
 * otherwise registers the version without moving it, says why and exits 6. The judgement itself
 * (`judgeImprovement`) against a real registry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/platform.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { judgeImprovement, parseImprovement } from '../../src/workflows/index.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { freshHome, seedModel } from '../helpers/server.js';

describe('fluxops train --require-improvement', () => {
  const home = freshHome('fluxops-gate-');
  const good = path.join(home, 'good.csv');
  const small = path.join(home, 'small.csv');
  beforeAll(() => {
    assertBuilt();
    fs.writeFileSync(good, generateDiabetesCsv(3000, 1));
    // The case: a rerun on 300 rows trains a worse model.
    fs.writeFileSync(small, generateDiabetesCsv(300, 5));
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  const train = (data: string, ...extra: string[]) =>
    runCli(['--home', home, '--json', 'train', '--data', data, '--target', 'Diabetic', '--exclude', 'PatientID', '--register', 'diabetes', '--alias', 'production', ...extra], { timeoutMs: 120_000 });

  it('moves production for a first model, refuses a worse one (exit 6, a sentence), and keeps the version registered', async () => {
    const first = await train(good, '--require-improvement', 'f1');
    expect(first.code, first.stderr).toBe(0);
    const firstOut = JSON.parse(first.stdout) as { version: { version: string; aliases: string[] }; gates: Array<{ alias: string; verdict: { improved: boolean; reason: string } }>; metrics: { f1: number } };
    expect(firstOut.version).toMatchObject({ version: '1', aliases: ['production'] });
    expect(firstOut.gates[0]!.verdict).toMatchObject({ improved: true });
    expect(firstOut.gates[0]!.verdict.reason).toContain('no production version yet');

    const worse = await train(small, '--require-improvement', 'f1');
    expect(worse.code).toBe(6);
    const out = JSON.parse(worse.stdout) as typeof firstOut;
    expect(out.version).toMatchObject({ version: '2', aliases: [] });
    expect(out.metrics.f1).toBeLessThan(firstOut.metrics.f1);
    expect(worse.stderr).toMatch(/^diabetes@production was not moved: f1 [\d.]+ is not above diabetes@production's [\d.]+ \(v1\)$/m);

    // The same data again cannot clear a least improvement of 0.5.
    const notEnough = await train(good, '--require-improvement', 'f1:0.5');
    expect(notEnough.code).toBe(6);
    expect(notEnough.stderr).toMatch(/by at least 0\.5/);

    const p = await openPlatform({ home });
    try {
      expect((await p.registry.getVersionByAlias('diabetes', 'production')).version).toBe('1');
      expect((await p.registry.getModelVersion('diabetes', '3')).aliases).toEqual([]);
    } finally {
      await p.close();
    }
  }, 300_000);

  it('refuses a malformed rule and a rule without an alias to gate, before training', async () => {
    const bad = await train(good, '--require-improvement', 'f1:-1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--require-improvement must be a metric');
    const noAlias = await runCli(['--home', home, 'train', '--data', good, '--target', 'Diabetic', '--require-improvement', 'f1']);
    expect(noAlias.code).toBe(2);
    expect(noAlias.stderr).toContain('pass --register <model> --alias <alias> too');
  }, 60_000);
});

describe('judgeImprovement', () => {
  let p: Platform;
  const home = freshHome('fluxops-judge-');
  let f1 = 0;
  let logLoss = 0;
  beforeAll(async () => {
    p = await openPlatform({ home });
    const trained = await seedModel(p); // diabetes/1 @production
    f1 = trained.training.metrics.f1!;
    logLoss = trained.training.metrics.log_loss!;
  }, 120_000);
  afterAll(async () => {
    await p.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('passes a better model, fails an equal or worse one, honours the least improvement and the metric direction', async () => {
    const judge = (metrics: Record<string, number>, rule: string, alias = 'production') => judgeImprovement(p.registry, 'diabetes', alias, metrics, parseImprovement(rule));
    expect((await judge({ f1: f1 + 0.001 }, 'f1')).improved).toBe(true);
    expect((await judge({ f1 }, 'f1')).improved).toBe(false);
    expect((await judge({ f1: f1 - 0.1 }, 'f1')).improved).toBe(false);
    expect((await judge({ f1: f1 + 0.009 }, 'f1:0.01')).improved).toBe(false);
    expect((await judge({ f1: f1 + 0.011 }, 'f1:0.01')).improved).toBe(true);
    // log_loss is better lower.
    expect((await judge({ log_loss: logLoss - 0.01 }, 'log_loss')).improved).toBe(true);
    expect((await judge({ log_loss: logLoss + 0.01 }, 'log_loss')).improved).toBe(false);
    const v = await judge({ f1: f1 + 0.02 }, 'f1');
    expect(v).toMatchObject({ improved: true, metric: 'f1', current: { version: '1', value: f1 } });
    expect(v.gain).toBeCloseTo(0.02, 12);
    // An alias that points nowhere: the first model passes.
    expect(await judge({ f1: 0.1 }, 'f1', 'staging')).toMatchObject({ improved: true, current: null });
    // A metric the current version lacks cannot be judged better.
    expect(await judge({ brier: 0.1 }, 'brier')).toMatchObject({ improved: false });
    await expect(judge({ f1: 0.5 }, 'recall')).rejects.toThrow("the new model has no metric 'recall'");
  });
});
