import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { seedModel, startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

describe.skipIf(unavailable !== null)('web UI: endpoints in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));
  const call = (method: string, p: string, body: unknown) => fetch(`${s.url}${p}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    s = await startTestServer();
    await seedModel(s.platform, { aliases: ['production'] });
    await seedModel(s.platform, { aliases: [], seed: 8 });
    expect((await call('POST', '/api/v1/endpoints', { name: 'diabetes-prod', environment: 'production', description: 'the diabetes model' })).status).toBe(201);
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/blue', { model: 'diabetes/1' })).status).toBe(200);
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/deployments/green', { model: 'diabetes/2' })).status).toBe(200);
    expect((await call('PUT', '/api/v1/endpoints/diabetes-prod/mirror', { mirror: { green: 25 } })).status).toBe(200);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists endpoints, and shows one: deployments with the versions they serve, traffic and mirroring', async () => {
    await page.goto(`${s.url}/endpoints`);
    await expect.poll(() => page.locator('tr[data-endpoint="diabetes-prod"] td').nth(3).textContent()).toBe('blue 100%');
    await page.getByRole('link', { name: 'diabetes-prod' }).click();
    await expect.poll(() => page.locator('tr[data-deployment]').count()).toBe(2);
    expect((await page.locator('tr[data-deployment="blue"] td').allTextContents()).slice(0, 4)).toEqual(['diabetes/1', 'version 1', '100%', '0%']);
    expect((await page.locator('tr[data-deployment="green"] td').allTextContents()).slice(0, 4)).toEqual(['diabetes/2', 'version 2', '0%', '25%']);
    // No traffic yet: the live figures (over the event stream) say so.
    await expect.poll(() => page.locator('tr[data-deployment="blue"] [data-figure]').allTextContents()).toEqual(['0.0', '—', '—']);
    expect(await page.getByText('Copies of live requests go to green 25%').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('sets the traffic split only when the shares add up to 100, and the server applies it', async () => {
    const blue = page.getByLabel('blue %');
    const green = page.getByLabel('green %');
    const button = page.getByRole('button', { name: 'Set traffic' });
    await green.fill('20');
    await expect.poll(() => page.locator('#traffic-problem').textContent()).toBe('The shares add up to 120%; they must add up to 100%.');
    expect(await button.isDisabled()).toBe(true);
    await green.fill('2.5');
    await expect.poll(() => page.locator('#traffic-problem').textContent()).toBe('The share of green must be a whole number from 0 to 100.');
    await blue.fill('80');
    await green.fill('20');
    await expect.poll(() => button.isDisabled()).toBe(false);
    await button.click();
    await expect.poll(() => page.getByRole('form', { name: 'Traffic split' }).getByRole('status').textContent()).toBe('Traffic is now blue 80%, green 20%.');
    const e = (await (await fetch(`${s.url}/api/v1/endpoints/diabetes-prod`)).json()) as { traffic: Record<string, number> };
    expect(e.traffic).toEqual({ blue: 80, green: 20 });
    expect(await page.locator('tr[data-deployment="green"] td').nth(2).textContent()).toBe('20%');
    expect(await axeViolations(page)).toEqual([]);
    // Mirroring: whole shares from 0 to 100 per deployment.
    const mirrored = page.getByLabel('green mirrored %');
    const setMirror = page.getByRole('button', { name: 'Set mirroring' });
    await mirrored.fill('150');
    await expect.poll(() => page.locator('#mirror-problem').textContent()).toBe('The mirrored share of green must be a whole number from 0 to 100.');
    expect(await setMirror.isDisabled()).toBe(true);
    await mirrored.fill('10');
    await setMirror.click();
    await expect.poll(() => page.getByRole('form', { name: 'Mirroring' }).getByRole('status').textContent()).toBe('Copies now go to green 10%.');
    const m = (await (await fetch(`${s.url}/api/v1/endpoints/diabetes-prod`)).json()) as { mirror: Record<string, number> };
    expect(m.mirror).toEqual({ green: 10 });
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'endpoint.png'), fullPage: true });
  });
});
