import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { seedModel, startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

describe.skipIf(unavailable !== null)('web UI: the registry in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));

  beforeAll(async () => {
    s = await startTestServer();
    // Two versions of diabetes (production → 1), and an endpoint serving version 1.
    await seedModel(s.platform, { aliases: ['production'] });
    await seedModel(s.platform, { aliases: [], seed: 8 });
    const put = (p: string, body: unknown) => fetch(`${s.url}${p}`, { method: p.includes('deployments') ? 'PUT' : 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify(body) });
    expect((await put('/api/v1/endpoints', { name: 'diabetes-prod' })).status).toBe(201);
    expect((await put('/api/v1/endpoints/diabetes-prod/deployments/blue', { model: 'diabetes/1' })).status).toBe(200);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists the registered models with their aliases, and passes axe', async () => {
    await page.goto(`${s.url}/models`);
    const row = page.locator('tr[data-model="diabetes"]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td').nth(1).textContent()).toBe('production → v1');
    expect(await row.locator('td').nth(2).textContent()).toBe('2');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'models.png') });
  });

  it('moves an alias from the model page, and the page shows where it points now', async () => {
    await page.getByRole('link', { name: 'diabetes' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('diabetes');
    await expect.poll(() => page.locator('tr[data-version]').count()).toBe(2);
    await page.getByLabel('Alias', { exact: true }).fill('staging');
    await page.getByLabel('To version').selectOption('2');
    await page.getByRole('button', { name: 'Move alias' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('diabetes@staging now points at version 2.');
    await expect.poll(() => page.locator('tr[data-version="2"] td').nth(1).textContent()).toBe('staging');
    const moved = (await (await fetch(`${s.url}/api/v1/models/diabetes/aliases/staging`)).json()) as { version: string };
    expect(moved.version).toBe('2');
    // A refused move is the server's sentence, not JSON.
    await page.getByLabel('Alias', { exact: true }).fill('bad alias!');
    await page.getByRole('button', { name: 'Move alias' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Alias must be 1–255 letters, digits, underscores or dashes.');
    const aliases = ((await (await fetch(`${s.url}/api/v1/models/diabetes`)).json()) as { aliases: Array<{ alias: string }> }).aliases.map((a) => a.alias);
    expect(aliases.sort()).toEqual(['production', 'staging']);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Alias', { exact: true }).fill('staging');
    await page.screenshot({ path: path.join(shots, 'model.png'), fullPage: true });
  });

  it("shows a version's lineage: data fingerprint → run → version → deployments, and its signature", async () => {
    await page.goto(`${s.url}/models/diabetes/versions/1`);
    const lineage = page.getByRole('list', { name: 'From the training data to the deployments' });
    await expect.poll(() => lineage.locator('li').count()).toBe(4);
    const steps = await lineage.locator('li').allTextContents();
    expect(steps[0]).toMatch(/^Data .*[0-9a-f]{8,}/);
    expect(steps[2]).toBe('Version diabetes/1');
    expect(steps[3]).toContain('diabetes-prod/blue (diabetes/1, 100% of traffic)');
    expect(await page.locator('table', { hasText: 'PlasmaGlucose' }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'version.png'), fullPage: true });
    await lineage.getByRole('link').click();
    await expect.poll(() => page.url()).toMatch(/\/runs\/[0-9a-f]{32}$/);
    // A version that does not exist is a sentence.
    await page.goto(`${s.url}/models/diabetes/versions/99`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/[A-Za-z].*\.$/);
  });
});
