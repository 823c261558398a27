import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrialRow } from '../../src/pipelines/index.js';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

const SWEEP = 'sw-0123456789ab';
/** [C, solver, status, value]: nine completed, two pruned, one failed. */
const TRIALS: Array<[number, string, TrialRow['status'], number | null]> = [
  [0.01, 'liblinear', 'completed', 0.7],
  [0.1, 'saga', 'completed', 0.74],
  [1, 'liblinear', 'pruned', 0.5],
  [10, 'saga', 'completed', 0.72],
  [100, 'liblinear', 'failed', null],
  [1, 'saga', 'completed', 0.8],
  [0.1, 'liblinear', 'completed', 0.78],
  [10, 'liblinear', 'pruned', 0.45],
  [100, 'saga', 'completed', 0.79],
  [1, 'liblinear', 'completed', 0.83],
  [0.01, 'saga', 'completed', 0.69],
  [10, 'saga', 'completed', 0.81],
];
const BEST_SO_FAR = ['0.7', '0.74', '0.74', '0.74', '0.74', '0.8', '0.8', '0.8', '0.8', '0.83', '0.83', '0.83'];

describe.skipIf(unavailable !== null)('web UI: sweeps in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));

  beforeAll(async () => {
    s = await startTestServer();
    const store = s.platform.sweeps;
    const t0 = Date.now() - 600_000;
    await store.create(
      { id: SWEEP, pipelineRun: 'pr-aaaaaaaaaaaa', step: 'tune', runId: 'parent-run', spec: { metric: 'f1', direction: 'maximize', sampling: 'random', maxTrials: 12 }, status: 'running', bestTrial: null, bestValue: null, createdAt: t0, updatedAt: t0, finishedAt: null },
      { type: 'sweep.started', payload: { sweep: SWEEP, run_id: 'parent-run', max_trials: 12, sampler: 'random' }, actor: null },
    );
    for (const [i, [C, solver, status, value]] of TRIALS.entries()) {
      const n = i + 1;
      expect(await store.addTrial(SWEEP, { number: n, params: { C, solver }, status: 'running', value: null, intermediate: [], jobId: null, runId: null, error: null, startedAt: t0 + n * 1000, finishedAt: null })).toBe(true);
      const error = status === 'failed' ? 'exit code 1' : status === 'pruned' ? 'behind the median at step 2' : null;
      expect(await store.moveTrial(SWEEP, n, { status, value, runId: `trial-run-${n}`, error, finishedAt: t0 + n * 1000 + 500 })).toBe(true);
    }
    expect(await store.finish(SWEEP, 'completed', { trial: 10, value: 0.83 }, { type: 'sweep.completed', payload: { sweep: SWEEP, run_id: 'parent-run', status: 'completed', best_trial: 10, best_value: 0.83 }, actor: null })).toBe(true);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists the sweep with its objective, progress and best value', async () => {
    await page.goto(`${s.url}/sweeps`);
    await expect.poll(() => page.locator(`tr[data-sweep="${SWEEP}"]`).count()).toBe(1);
    const cells = await page.locator(`tr[data-sweep="${SWEEP}"] td`).allTextContents();
    expect(cells.slice(0, 6)).toEqual([SWEEP, 'pr-aaaaaaaaaaaa (tune)', 'completed', 'maximize f1', '12/12', '0.8300']);
    expect(await page.locator(`tr[data-sweep="${SWEEP}"] a[href="/pipelines/runs/pr-aaaaaaaaaaaa"]`).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('shows the sweep: a scatter of completed and pruned trials, the failed one listed, and the best so far', async () => {
    await page.getByRole('link', { name: SWEEP }).click();
    await expect.poll(() => page.locator('svg[data-chart="scatter"] [data-trial]').count()).toBe(11);
    expect(await page.locator('svg[data-chart="scatter"] [data-status="completed"]').count()).toBe(9);
    expect(await page.locator('svg[data-chart="scatter"] [data-status="pruned"]').count()).toBe(2);
    expect(await page.locator('svg[data-chart="scatter"] [data-trial="5"]').count()).toBe(0);
    expect(await page.locator('p[data-failed]').getAttribute('data-failed')).toBe('5');
    expect(await page.locator('svg[data-chart="scatter"]').getAttribute('aria-label')).toBe('Scatter of f1 against C for 11 trials: 9 completed (filled dots), 2 pruned (crossed rings); f1 from 0.4500 to 0.8300');
    const best = await Promise.all((await page.locator('svg[data-chart="best"] [data-best]').all()).map((l) => l.getAttribute('data-best')));
    expect(best).toEqual(BEST_SO_FAR);
    expect(await page.locator('tbody tr[data-trial] td:nth-child(6)').allTextContents()).toEqual(BEST_SO_FAR.map((v) => Number(v).toPrecision(4)));
    expect(await page.locator('tr[data-trial="10"] a').getAttribute('href')).toBe('/runs/trial-run-10');
    expect(await page.locator('tr[data-trial="5"] td').nth(3).textContent()).toBe('failed');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('draws the other parameter when chosen, by category, and keeps it in the URL', async () => {
    await page.getByLabel('Parameter').selectOption('solver');
    await expect.poll(() => new URL(page.url()).searchParams.get('param')).toBe('solver');
    await expect.poll(() => page.locator('svg[data-chart="scatter"]').getAttribute('aria-label')).toContain('against solver');
    expect(await page.locator('svg[data-chart="scatter"] [data-trial]').count()).toBe(11);
    const axis = await page.locator('svg[data-chart="scatter"] text').allTextContents();
    expect(axis).toContain('liblinear');
    expect(axis).toContain('saga');
    await page.reload();
    await expect.poll(() => page.getByLabel('Parameter').inputValue()).toBe('solver');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'sweep.png'), fullPage: true });
  });
});
