import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { seedModel, startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();
const FEATURES = ['Pregnancies', 'PlasmaGlucose', 'DiastolicBloodPressure', 'TricepsThickness', 'SerumInsulin', 'BMI', 'DiabetesPedigree', 'Age'];

describe.skipIf(unavailable !== null)('web UI: monitoring in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));
  const call = (method: string, p: string, body?: unknown) =>
    fetch(`${s.url}${p}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: `Bearer ${s.key}` }, body: body === undefined ? undefined : JSON.stringify(body) });

  /** Rows logged for the endpoint so far. */
  const logged = async (): Promise<number> => {
    let total = 0;
    let before: number | undefined;
    for (;;) {
      const res = await call('GET', `/api/v1/endpoints/diabetes-prod/inferences?limit=1000${before === undefined ? '' : `&before=${before}`}`);
      const page = (await res.json()) as { inferences: Array<{ rows: number }>; next: number | null };
      total += page.inferences.reduce((n, r) => n + r.rows, 0);
      if (page.next === null) return total;
      before = page.next;
    }
  };

  beforeAll(async () => {
    s = await startTestServer();
    await seedModel(s.platform, { aliases: ['production'] });
    expect((await call('POST', '/api/v1/endpoints', { name: 'diabetes-prod' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/blue', { model: 'diabetes@production' })).status).toBe(200);
    // 2 of 8 columns will shift, hence a share of 0.25 (as in test/e2e/drift.test.ts).
    expect((await call('POST', '/api/v1/monitors', { name: 'diabetes-drift', endpoint: 'diabetes-prod', window: '1h', minRows: 100, driftShare: 0.25 })).status).toBe(201);
    // A first check before any traffic: too few rows, so the history has two statuses.
    expect((await call('POST', '/api/v1/monitors/diabetes-drift/run')).status).toBe(200);
    // Real predictions of shifted rows (PlasmaGlucose +10, BMI +3), 10 per request.
    const lines = generateDiabetesCsv(600, 11).trim().split('\n');
    const head = lines[0]!.split(',');
    const rows = lines.slice(1).map((l) => {
      const cells = l.split(',');
      const r = Object.fromEntries(FEATURES.map((f) => [f, Number(cells[head.indexOf(f)])]));
      return { ...r, PlasmaGlucose: r.PlasmaGlucose! + 10, BMI: r.BMI! + 3 };
    });
    for (let i = 0; i < rows.length; i += 10) {
      const res = await call('POST', '/api/v1/endpoints/diabetes-prod/predict', { inputs: rows.slice(i, i + 10) });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // The log is written in the background; expect.poll is not allowed outside a test.
    for (const until = Date.now() + 15_000; (await logged()) < 600 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    expect(await logged()).toBe(600);
    const run = await call('POST', '/api/v1/monitors/diabetes-drift/run');
    expect(run.status).toBe(200);
    const result = (await run.json()) as { status: string; dataset: { driftedColumns: string[] } };
    expect(result.status).toBe('drift');
    expect(result.dataset.driftedColumns).toEqual(expect.arrayContaining(['PlasmaGlucose', 'BMI']));
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists the monitor with its latest status, the alerts and the SLOs', async () => {
    await page.goto(`${s.url}/monitoring`);
    const row = page.locator('tr[data-monitor="diabetes-drift"]');
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('drift');
    expect(await row.locator('td').nth(1).textContent()).toBe('diabetes-prod');
    expect(await row.locator('td').nth(5).textContent()).toContain('drift');
    await expect.poll(() => page.getByText('There are no SLOs').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('shows the newest check: columns, histograms of the chosen column, predictions, performance, history', async () => {
    await page.getByRole('link', { name: 'diabetes-drift' }).click();
    await expect.poll(() => page.locator('tr[data-column]').count()).toBe(8);
    expect(await page.locator('[data-sentence="status"]').textContent()).toMatch(/^Drift: the data drifted/);
    expect(await page.locator('[data-sentence="dataset"]').textContent()).toContain('of 8 columns drifted');
    const drifted = await page.locator('tr[data-drifted="true"] th a').allTextContents();
    expect(drifted).toEqual(expect.arrayContaining(['PlasmaGlucose', 'BMI']));
    expect(await page.locator('tr[data-column="PlasmaGlucose"] td').nth(3).textContent()).toContain('yes');
    // The default column is the most drifted; histograms of both sides with the same bins.
    expect(await page.locator('svg[data-histogram="reference"] rect[data-series="reference"]').count()).toBeGreaterThan(1);
    await page.locator('tr[data-column="BMI"] th a').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('column')).toBe('BMI');
    await expect.poll(() => page.locator('svg[data-histogram="live"]').getAttribute('aria-label')).toMatch(/^Live window shares of BMI over \d+ bins: /);
    const ref = await page.locator('rect[data-series="reference"]').count();
    const live = await page.locator('rect[data-series="live"]').count();
    expect(ref).toBeGreaterThan(1);
    expect(live).toBe(ref);
    expect(await page.locator('svg[role="img"][data-histogram]').count()).toBe(2);
    // Prediction drift and the CBPE estimate (no labels were sent, so nothing realised).
    expect(await page.locator('tr[data-prediction]').count()).toBeGreaterThan(0);
    expect(await page.locator('tr[data-metric="rows"] td').first().textContent()).toBe('600');
    // The history: the drift check and the one before any traffic.
    const statuses = page.locator('tr[data-result] [data-status]');
    expect(await statuses.count()).toBe(2);
    expect([await statuses.nth(0).getAttribute('data-status'), await statuses.nth(1).getAttribute('data-status')]).toEqual(['drift', 'insufficient_data']);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'monitoring.png'), fullPage: true });
  });

  it('shows an older check from the history by its shareable ?result=', async () => {
    const first = page.locator('tr[data-result] th a').last();
    await first.click();
    await expect.poll(() => new URL(page.url()).searchParams.get('result')).toBe('1');
    await expect.poll(() => page.locator('[data-sentence="status"]').textContent()).toMatch(/^Not judged: the window holds 0 logged rows/);
    await page.goto(`${s.url}/monitoring/diabetes-drift?result=1`);
    await expect.poll(() => page.locator('[data-sentence="status"]').textContent()).toMatch(/^Not judged/);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('checks now and shows the new check', async () => {
    await page.getByRole('button', { name: 'Check now' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Checked: #3 found drift\.$/);
    await expect.poll(() => new URL(page.url()).searchParams.get('result')).toBe(null);
    await expect.poll(() => page.locator('tr[data-result]').count()).toBe(3);
    expect(await page.locator('tr[data-column]').count()).toBe(8);
  });
});
