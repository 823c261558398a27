import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { seedModel, startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

describe.skipIf(unavailable !== null)('web UI: signing in on a server that requires keys, and what a role may use', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let viewer: string;
  let developer: string;
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));

  beforeAll(async () => {
    s = await startTestServer({ auth: 'required' });
    await seedModel(s.platform, { aliases: ['production'] });
    await seedModel(s.platform, { aliases: [], seed: 8 });
    viewer = (await s.platform.keys.create('ann', { role: 'viewer' })).key;
    developer = (await s.platform.keys.create('dev-bot', { role: 'developer' })).key;
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  const signIn = async (key: string): Promise<void> => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('asks for a key, refuses a wrong one with a sentence, and keeps the key in an HttpOnly cookie', async () => {
    await page.goto(`${s.url}/models/diabetes`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    expect(await axeViolations(page)).toEqual([]);
    await signIn('flx_wrong');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^This API key is not valid here/);
    await signIn(viewer);
    // The page asked for comes up once signed in.
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('diabetes');
    await expect.poll(() => page.locator('.who').textContent()).toMatch(/^Signed in as ann \(viewer\)/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'fluxops_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('fluxops_session');
  });

  it("disables moving an alias for a viewer, saying why; a developer's key moves it", async () => {
    const button = page.getByRole('button', { name: 'Move alias' });
    await expect.poll(() => button.isDisabled()).toBe(true);
    expect(await page.locator('#alias-why').textContent()).toBe('Your key ann (role viewer) may not move aliases: that needs write permission.');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    await signIn(developer);
    await expect.poll(() => page.locator('.who').textContent()).toMatch(/^Signed in as dev-bot \(developer\)/);
    await expect.poll(() => button.isDisabled()).toBe(false);
    await page.getByLabel('Alias', { exact: true }).fill('staging');
    await page.getByLabel('To version').selectOption('2');
    await button.click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('diabetes@staging now points at version 2.');
    // production is protected: a developer's move is refused by the server, in its words.
    await page.getByLabel('Alias', { exact: true }).fill('production');
    await button.click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/'production' is a protected alias: moving it needs an admin key/);
    const v = (await (await fetch(`${s.url}/api/v1/models/diabetes/aliases/production`, { headers: { authorization: `Bearer ${s.key}` } })).json()) as { version: string };
    expect(v.version).toBe('1');
  });
  it('shows keys, the audit log and webhooks to an admin only; a developer is told why not', async () => {
    await page.goto(`${s.url}/admin`);
    await expect.poll(() => page.locator('main p').first().textContent()).toBe('Your key dev-bot (role developer) may not see the keys, the audit log and the webhooks: that needs admin permission.');
    await page.getByRole('link', { name: 'Sign in with an admin key' }).click();
    await expect.poll(() => page.url()).toBe(`${s.url}/sign-in?next=/admin`);
    await signIn(s.key);
    await expect.poll(() => page.url()).toBe(`${s.url}/admin`);
    await expect.poll(() => page.locator('tr[data-key]').count()).toBe(3);
    expect(await page.locator('tr[data-key="ann"] td').allTextContents()).toEqual(expect.arrayContaining(['viewer', 'all', 'active']));
    // The developer's alias moves of the test before, the refused one included, are in the log.
    const log = (await page.locator('table', { hasText: 'Audit log' }).or(page.locator('table').nth(1)).textContent()) ?? '';
    expect(log).toContain('dev-bot (developer)');
    expect(log).toContain('PUT /api/v1/models/:name/aliases/:alias');
    expect(log).toContain('403');
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'admin.png'), fullPage: true });
  });
  it("lists webhooks to an admin, and a chosen one's deliveries, with a test delivery sent from the page", async () => {
    const received: string[] = [];
    const hook = http.createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        received.push(String(req.headers['x-fluxops-event'] ?? req.headers['x-fluxops-delivery'] ?? 'delivery'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as { port: number }).port;
      const made = await fetch(`${s.url}/api/v1/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify({ name: 'ops-hook', url: `http://127.0.0.1:${port}/hook`, events: ['model.*'] }) });
      expect(made.status).toBe(201);
      await page.goto(`${s.url}/admin`);
      await page.getByRole('link', { name: 'ops-hook' }).click();
      await expect.poll(() => page.url()).toBe(`${s.url}/admin?webhook=ops-hook`);
      await expect.poll(() => page.getByText('Nothing has been delivered to this webhook yet.').count()).toBe(1);
      await page.getByRole('button', { name: 'Send a test delivery' }).click();
      await expect.poll(() => page.getByRole('status').last().textContent()).toBe('The test delivery succeeded (HTTP 204).');
      await expect.poll(() => page.locator('tr[data-delivery][data-state="succeeded"]').count()).toBe(1);
      expect(received.length).toBe(1);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      hook.close();
    }
  });
});
