import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

const RUNS = 30;

/** MLflow REST calls, as any MLflow client makes them. */
async function mlflow<T>(s: TestServer, method: string, body: unknown): Promise<T> {
  const r = await fetch(`${s.url}/api/2.0/mlflow/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** The focused element as `tag:name-or-text`. */
const FOCUSED = `(() => { const e = document.activeElement; return e === null ? '' : e.tagName.toLowerCase() + ':' + (e.getAttribute('name') ?? (e.textContent ?? '').trim()); })()`;

describe.skipIf(unavailable !== null)('web UI: runs in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let best: string;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));

  beforeAll(async () => {
    s = await startTestServer();
    const { experiment_id } = await mlflow<{ experiment_id: string }>(s, 'experiments/create', { name: 'churn' });
    for (let i = 0; i < RUNS; i++) {
      const { run } = await mlflow<{ run: { info: { run_id: string } } }>(s, 'runs/create', { experiment_id, run_name: `trial-${String(i).padStart(2, '0')}`, start_time: 1_700_000_000_000 + i * 60_000 });
      const id = run.info.run_id;
      await mlflow(s, 'runs/log-batch', {
        run_id: id,
        params: [
          { key: 'C', value: String((i % 5) / 2 + 0.5) },
          { key: 'solver', value: i % 2 === 0 ? 'lbfgs' : 'newton' },
        ],
        metrics: [
          { key: 'f1', value: i / RUNS, timestamp: 1_700_000_000_000, step: 0 },
          { key: 'accuracy', value: 0.5 + i / (2 * RUNS), timestamp: 1_700_000_000_000, step: 0 },
        ],
        tags: [{ key: 'mlflow.source.git.commit', value: `c0ffee${String(i).padStart(2, '0')}` }],
      });
      await mlflow(s, 'runs/log-inputs', {
        run_id: id,
        datasets: [{ dataset: { name: 'churn.csv', digest: `d1g3st${i}`, source_type: 'local', source: 'file:///data/churn.csv' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
      });
      await mlflow(s, 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1_700_000_000_000 + i * 60_000 + 42_000 });
      if (i === RUNS - 1) best = id;
    }
    // The best run also has a loss curve over 20 steps and artifacts of each kind the UI previews.
    await mlflow(s, 'runs/log-batch', { run_id: best, metrics: Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step })) });
    const put = async (p: string, body: Buffer | string, type: string) => {
      const r = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${best}/artifacts/${p}`, { method: 'PUT', headers: { 'content-type': type }, body });
      expect(r.status).toBe(200);
    };
    await put('report/summary.json', JSON.stringify({ f1: 0.97, note: 'best' }), 'application/json');
    await put('report/predictions.csv', 'id,label,comment\n1,yes,"a, quoted ""cell"""\n2,no,plain\n', 'text/csv');
    await put('notes.txt', 'trained on churn.csv\n', 'text/plain');
    // A 1×1 PNG.
    await put('plots/pixel.png', Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'), 'image/png');
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  const rows = (p: Page) => p.locator('tbody tr[data-run]');

  it('lists the runs, newest first, with metric and param columns, and passes axe', async () => {
    await page.goto(`${s.url}/`);
    await expect.poll(() => page.locator('p[aria-live]').textContent()).toBe(`${RUNS} runs.`);
    expect(await rows(page).first().locator('td').nth(1).textContent()).toBe('trial-29');
    const headers = await page.locator('thead th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['Run', 'Status', 'Started ↓', 'accuracy', 'f1', 'C', 'solver']));
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'runs.png') });
  });

  it('filters with the MLflow grammar, keeps the filter in a shareable URL, and shows a bad filter inline', async () => {
    const box = page.getByRole('searchbox', { name: /Filter/ });
    await box.fill("metrics.f1 > 0.5 and params.solver = 'lbfgs'");
    await box.press('Enter');
    // f1 = i/30 > 0.5 for i = 16..29, lbfgs for even i: 16, 18, …, 28.
    await expect.poll(() => page.locator('p[aria-live]').textContent()).toBe('7 runs.');
    expect(new URL(page.url()).searchParams.get('filter')).toBe("metrics.f1 > 0.5 and params.solver = 'lbfgs'");
    const names = await rows(page).locator('td:nth-child(2)').allTextContents();
    expect(names).toEqual(['trial-28', 'trial-26', 'trial-24', 'trial-22', 'trial-20', 'trial-18', 'trial-16']);
    // The same URL in a new page shows the same runs.
    const shared = await page.context().newPage();
    await shared.goto(page.url());
    await expect.poll(() => shared.locator('p[aria-live]').textContent()).toBe('7 runs.');
    await shared.close();

    await box.fill('metrics.f1 >>> 2');
    await box.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^This filter cannot be used: .+/);
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await rows(page).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('sorts by a metric column, ascending then descending', async () => {
    await page.goto(`${s.url}/`);
    await expect.poll(() => rows(page).count()).toBeGreaterThan(0);
    const f1 = page.locator('thead th', { hasText: /^f1/ });
    await f1.getByRole('button').click();
    await expect.poll(() => f1.getAttribute('aria-sort')).toBe('descending');
    expect(await rows(page).first().locator('td').nth(1).textContent()).toBe('trial-29');
    await f1.getByRole('button').click();
    await expect.poll(() => f1.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => rows(page).first().locator('td').nth(1).textContent()).toBe('trial-00');
    expect(new URL(page.url()).searchParams.get('sort')).toBe('m.f1');
  });

  it('opens a run: its params, metrics, dataset fingerprint and git commit; passes axe', async () => {
    await page.goto(`${s.url}/`);
    await page.getByRole('link', { name: 'trial-29' }).click();
    await expect.poll(() => page.url()).toBe(`${s.url}/runs/${best}`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('trial-29');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('c0ffee29');
    expect(text).toContain('d1g3st29');
    expect(text).toContain('solver');
    expect(await page.locator('table.kv', { hasText: 'f1' }).locator('td', { hasText: /^0\.96/ }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'run.png'), fullPage: true });
    // A run that does not exist is a sentence, not JSON.
    await page.goto(`${s.url}/runs/0123456789abcdef0123456789abcdef`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/[A-Za-z].*\.$/);
    expect((await page.getByRole('alert').textContent()) ?? '').not.toContain('{');
  });

  it("charts a run's metric history (log scale, smoothing) and previews its artifacts: JSON, CSV as a table, text, images", async () => {
    await page.goto(`${s.url}/runs/${best}`);
    const chart = page.getByRole('img', { name: /History by step of .*loss/ });
    await expect.poll(() => chart.count()).toBe(1);
    await expect.poll(() => chart.locator('canvas').count()).toBe(1);
    await page.getByLabel('Log scale').check();
    await page.getByLabel(/Smoothing/).fill('0.5');
    await expect.poll(() => page.getByText('Smoothing 0.50').count()).toBe(1);
    await expect.poll(() => chart.locator('canvas').count()).toBe(1);
    // Folders open in place; each kind of file previews.
    await page.getByRole('button', { name: /report\// }).click();
    const row = (name: string) => page.locator('table.artifacts tr', { hasText: name });
    await row('summary.json').getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('pre.preview').textContent()).toBe(JSON.stringify({ f1: 0.97, note: 'best' }, null, 2));
    await row('predictions.csv').getByRole('button', { name: 'Preview' }).click();
    const csv = page.locator('section[aria-label="Preview of report/predictions.csv"] table');
    await expect.poll(() => csv.locator('tbody tr').count()).toBe(2);
    expect(await csv.locator('thead th').allTextContents()).toEqual(['id', 'label', 'comment']);
    expect(await csv.locator('tbody tr').first().locator('td').allTextContents()).toEqual(['1', 'yes', 'a, quoted "cell"']);
    await row('notes.txt').getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('pre.preview').textContent()).toBe('trained on churn.csv\n');
    await page.getByRole('button', { name: /plots\// }).click();
    await row('pixel.png').getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.evaluate<number>("document.querySelector('img.preview-image')?.naturalWidth ?? 0")).toBe(1);
    expect(await row('notes.txt').getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(`/get-artifact?run_id=${best}&path=notes.txt`);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'run.png'), fullPage: true });
  });

  it('compares runs it is told to: params and metrics side by side with differences marked, overlaid curves, parallel coordinates', async () => {
    await page.goto(`${s.url}/`);
    await expect.poll(() => rows(page).count()).toBeGreaterThan(0);
    await page.getByRole('checkbox', { name: 'Compare trial-29' }).check();
    await expect.poll(() => page.getByText('Tick another run to compare them.').count()).toBe(1);
    await page.getByRole('checkbox', { name: 'Compare trial-28' }).check();
    await page.getByRole('link', { name: 'Compare 2 runs' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Compare 2 runs');
    expect(new URL(page.url()).searchParams.get('runs')!.split(',')).toHaveLength(2);
    // trial-29: C 2.5 newton; trial-28: C 2 lbfgs — both differ.
    const param = (k: string) => page.locator(`tr[data-key="${k}"]`).first();
    await expect.poll(() => param('C').locator('td').allTextContents()).toEqual(['2.5', '2', 'differs']);
    expect(await param('solver').locator('td').allTextContents()).toEqual(['newton', 'lbfgs', 'differs']);
    await page.getByLabel('Metric').selectOption('loss');
    const chart = page.getByRole('img', { name: /^loss by step for trial-29$/ });
    await expect.poll(() => chart.count()).toBe(1);
    await page.getByLabel('Metric').selectOption('f1');
    await expect.poll(() => page.getByText('No run logged f1 at several steps').count()).toBe(1);
    const parallel = page.getByRole('img', { name: /^Parallel coordinates of C, f1 for 2 runs$/ });
    await expect.poll(() => parallel.locator('polyline').count()).toBe(2);
    expect(new URL(page.url()).searchParams.get('metric')).toBe('f1');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'compare.png'), fullPage: true });
  });

  it('is usable from the keyboard: skip link, filter box, sort buttons and run links take focus in order', async () => {
    await page.goto(`${s.url}/`);
    await expect.poll(() => rows(page).count()).toBeGreaterThan(0);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(FOCUSED)).toBe('a:Skip to the content');
    const seen: string[] = [];
    for (let i = 0; i < 24; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate<string>(FOCUSED));
    }
    expect(seen).toContain('input:filter');
    expect(seen.some((x) => x.startsWith('button:Run'))).toBe(true);
    // Enter on a focused run link opens it.
    const link = page.getByRole('link', { name: 'trial-29' });
    await link.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toBe(`${s.url}/runs/${best}`);
  });
});
