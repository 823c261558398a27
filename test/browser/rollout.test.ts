/**
 * The endpoint page while a canary runs: the live figures (requests/s, p95, errors) come over
 * server-sent events, the rollout's step advances on the page without a reload, and the
 * operators' buttons follow the key's role (a developer cannot promote past a pause; an approver
 * can, and the rollout completes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { SAMPLE, seedModel, startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

describe.skipIf(unavailable !== null)('web UI: a rollout watched live in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dev = '';
  let approver = '';
  let scorer = '';
  let loading = true;
  let load: Promise<void> = Promise.resolve();
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));
  const call = async (method: string, p: string, key: string, body?: unknown) => {
    const r = await fetch(`${s.url}${p}`, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const signIn = async (key: string) => {
    expect((await context.request.post(`${s.url}/api/v1/session`, { data: { key } })).status()).toBe(200);
  };

  beforeAll(async () => {
    s = await startTestServer({ auth: 'required' });
    await seedModel(s.platform, { aliases: ['production'] });
    await seedModel(s.platform, { aliases: [], seed: 8 });
    dev = (await s.platform.keys.create('deployer', { role: 'developer' })).key;
    approver = (await s.platform.keys.create('release-manager', { role: 'approver' })).key;
    scorer = (await s.platform.keys.create('scorer', { role: 'predict' })).key;
    expect((await call('POST', '/api/v1/endpoints', dev, { name: 'prod' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/endpoints/prod/deployments/blue', dev, { model: 'diabetes/1' })).status).toBe(200);
    expect((await call('PUT', '/api/v1/endpoints/prod/deployments/green', dev, { model: 'diabetes/2' })).status).toBe(200);
    // Steady traffic for the gates and the live figures, all through the test.
    load = (async () => {
      while (loading) {
        const r = await fetch(`${s.url}/api/v1/endpoints/prod/predict`, { method: 'POST', headers: { authorization: `Bearer ${scorer}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [SAMPLE] }) });
        await r.arrayBuffer();
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    loading = false;
    await load;
    await browser?.close();
    await s?.close();
  });

  it('shows live traffic figures, then a canary started meanwhile advancing step by step without a reload', async () => {
    await signIn(dev);
    await page.goto(`${s.url}/endpoints/prod`);
    // Live figures arrive over the stream: blue serves everything.
    await expect.poll(() => page.locator('tr[data-deployment="blue"] [data-figure="rps"]').textContent(), { timeout: 15_000 }).toMatch(/^[1-9]\d*\.\d$/);
    expect(await page.locator('tr[data-deployment="blue"] [data-figure="p95"]').textContent()).toMatch(/ ms$/);
    expect(await page.locator('tr[data-deployment="blue"] [data-figure="errors"]').textContent()).toBe('0.00%');
    expect(await page.getByText('No rollout has run on this endpoint').count()).toBe(1);

    const started = await call('POST', '/api/v1/endpoints/prod/rollouts', dev, { to: 'green', steps: [25, 'pause', 100], bake: '3s', gates: ['error_rate<0.5', 'p95_ms<5000'], minRequests: 5, interval: '200ms' });
    expect(started.status).toBe(201);
    const rollout = page.locator(`[data-rollout="${String(started.body.id)}"]`);
    // The rollout appears, baking its first step with its gates measured as they go.
    await expect.poll(() => rollout.locator('[data-step-index="0"]').getAttribute('data-step-state'), { timeout: 10_000 }).toBe('baking');
    await expect.poll(() => page.locator('tr[data-deployment="green"] td').nth(2).textContent()).toBe('25%');
    await expect.poll(() => rollout.locator('[data-step-index="0"] [data-gate="error_rate<0.5"]').textContent(), { timeout: 10_000 }).toMatch(/^error_rate<0\.5: 0 — passing$/);
    // The step passes and the pause comes next, on the page as it happens.
    await expect.poll(() => rollout.getAttribute('data-step'), { timeout: 20_000 }).toBe('1');
    expect(await rollout.locator('[data-step-index="0"]').getAttribute('data-step-state')).toBe('passed');
    expect(await rollout.locator('[data-step-index="1"]').getAttribute('data-step-state')).toBe('waiting');
    // A developer may pause or abort, not promote past a pause.
    const promote = page.getByRole('button', { name: 'Promote' });
    expect(await promote.isDisabled()).toBe(true);
    expect(await page.locator('#rollout-why-approve').textContent()).toBe('Your key deployer (role developer) may not promote a rollout: that needs approve permission.');
    expect(await page.getByRole('button', { name: 'Abort' }).isDisabled()).toBe(false);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'rollout.png'), fullPage: true });
  }, 90_000);

  it('an approver promotes past the pause from the page, and the rollout completes live', async () => {
    await signIn(approver);
    await page.reload();
    const promote = page.getByRole('button', { name: 'Promote' });
    await expect.poll(() => promote.isDisabled(), { timeout: 10_000 }).toBe(false);
    // An approver may not abort (that is a deployer's move).
    expect(await page.getByRole('button', { name: 'Abort' }).isDisabled()).toBe(true);
    await promote.click();
    await expect.poll(() => page.locator('[data-rollout]').getByRole('status').textContent()).toBe('Promoted: the rollout goes on to its next step.');
    const rollout = page.locator('[data-rollout]');
    await expect.poll(() => rollout.getAttribute('data-state'), { timeout: 30_000 }).toBe('succeeded');
    expect(await rollout.locator('[data-step-index="1"]').getAttribute('data-step-state')).toBe('approved');
    await expect.poll(() => page.locator('tr[data-deployment="green"] td').nth(2).textContent()).toBe('100%');
    const done = await call('GET', `/api/v1/endpoints/prod`, dev);
    expect(done.body.traffic).toEqual({ blue: 0, green: 100 });
    expect(await axeViolations(page)).toEqual([]);
  }, 90_000);
});
