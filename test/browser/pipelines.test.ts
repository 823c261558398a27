import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJobWorker } from '../../src/job-handlers.js';
import { axeViolations, browserUnavailable, launchBrowser, screenshotDir } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const unavailable = browserUnavailable();

/** A cheap pipeline that stops at an approval between two commands. */
const SPEC = [
  'name: gated',
  'steps:',
  '  hello:',
  '    run: echo hello before the gate',
  '  gate:',
  '    type: approve',
  '    needs: hello',
  '    with:',
  '      message: ship it?',
  '  after:',
  '    needs: gate',
  '    run: echo shipped after the gate',
  '',
].join('\n');

describe.skipIf(unavailable !== null)('web UI: pipelines in a real browser', () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let runId = '';
  let viewerKey = '';
  let approverKey = '';
  const shots = screenshotDir(fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-ui-shots-')));

  const signIn = async (key: string): Promise<void> => {
    const r = await context.request.post(`${s.url}/api/v1/session`, { data: { key } });
    expect(r.status()).toBe(200);
  };

  beforeAll(async () => {
    s = await startTestServer({ auth: 'required' });
    // The steps run on a job worker in this process, as `fluxops server` runs them on the embedded store.
    await addJobWorker(s.platform, { concurrency: 2, serverUrl: () => s.url });
    await s.platform.start();
    viewerKey = (await s.platform.keys.create('vera', { role: 'viewer' })).key;
    approverKey = (await s.platform.keys.create('abe', { role: 'approver' })).key;
    const res = await fetch(`${s.url}/api/v1/pipeline-runs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.key}` }, body: JSON.stringify({ spec: SPEC }) });
    expect(res.status).toBe(201);
    runId = ((await res.json()) as { id: string }).id;
    // Wait until the run stands at the gate.
    const end = Date.now() + 30_000;
    for (;;) {
      const r = (await (await fetch(`${s.url}/api/v1/pipeline-runs/${runId}`, { headers: { authorization: `Bearer ${s.key}` } })).json()) as { steps: Array<{ step: string; status: string }> };
      if (r.steps.find((x) => x.step === 'gate')?.status === 'waiting') break;
      if (Date.now() > end) throw new Error(`the run did not reach its gate: ${JSON.stringify(r.steps)}`);
      await new Promise((done) => setTimeout(done, 150));
    }
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists the run as running, and shows it waiting at its approval; a viewer finds Approve disabled with the reason', async () => {
    await signIn(viewerKey);
    await page.goto(`${s.url}/pipelines`);
    const row = page.locator(`tr[data-pipeline-run="${runId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td').nth(1).textContent()).toBe('gated');
    expect(await row.locator('td').nth(2).textContent()).toContain('running');
    expect(await row.locator('td').nth(3).textContent()).toBe('manual');
    expect(await page.getByText('No schedule starts a pipeline').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    // The status filter is in the URL.
    await page.getByLabel('Status').selectOption('succeeded');
    await expect.poll(() => page.url()).toContain('/pipelines?status=succeeded');
    await expect.poll(() => page.getByText('No pipeline run matches these filters').count()).toBe(1);
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('link', { name: runId }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(`Pipeline run ${runId}`);
    await expect.poll(() => page.locator('[role="listitem"][data-step="gate"]').getAttribute('data-step-status')).toBe('waiting');
    expect(await page.locator('[role="listitem"][data-step="hello"]').textContent()).toContain('succeeded');
    expect(await page.locator('[role="listitem"][data-step="after"]').textContent()).toContain('pending');
    // The DAG: each step one column right of what it needs, and saying what that is.
    await expect.poll(() => page.locator('[role="listitem"][data-step="after"]').getAttribute('data-depth')).toBe('2');
    expect(await page.locator('[role="listitem"][data-step="hello"]').getAttribute('data-depth')).toBe('0');
    expect(await page.locator('[role="listitem"][data-step="gate"]').textContent()).toContain('after hello');
    const approve = page.getByRole('button', { name: 'Approve' });
    expect(await approve.isDisabled()).toBe(true);
    const described = await approve.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${described}"]`).textContent()).toBe('Your key vera (role viewer) may not approve or reject a pipeline step: that needs approve permission.');
    await expect.poll(() => page.getByRole('log').textContent()).toContain('hello before the gate');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('an approver approves with a reason: the step shows approved and the run succeeds live, with the later step in the log', async () => {
    await signIn(approverKey);
    await page.goto(`${s.url}/pipelines/runs/${runId}`);
    const approve = page.getByRole('button', { name: 'Approve' });
    await expect.poll(() => approve.isDisabled()).toBe(false);
    await page.getByLabel('Reason for the decision on gate').fill('looks good');
    await approve.click();
    await expect.poll(() => page.locator('[data-approval="gate"] [role="status"]').textContent()).toBe('Approved gate: the run goes on.');
    await expect.poll(() => page.locator('[data-approval="gate"]').textContent()).toContain('gate: approved by abe (looks good).');
    await expect.poll(() => page.locator('td[data-step-note="gate"]').textContent(), { timeout: 15_000 }).toContain('Approved by abe: looks good.');
    await expect.poll(() => page.locator('[data-run-status]').getAttribute('data-run-status'), { timeout: 30_000 }).toBe('succeeded');
    expect(await page.locator('[role="listitem"][data-step="after"]').getAttribute('data-step-status')).toBe('succeeded');
    await expect.poll(() => page.getByRole('log').textContent(), { timeout: 10_000 }).toContain('shipped after the gate');
    // The step selector narrows the log, in the URL.
    await page.getByLabel('Show the log of').selectOption('after');
    await expect.poll(() => page.url()).toContain('step=after');
    await expect.poll(() => page.getByRole('log', { name: 'Log of step after' }).textContent()).toContain('shipped after the gate');
    expect(await page.getByRole('log').textContent()).not.toContain('hello before the gate');
    expect(await page.evaluate<boolean>('document.querySelector("[role=log]").tabIndex === 0')).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel('Show the log of').selectOption('');
    await expect.poll(() => page.getByRole('log').textContent()).toContain('hello before the gate');
    await page.screenshot({ path: path.join(shots, 'pipeline.png'), fullPage: true });
    const r = (await (await fetch(`${s.url}/api/v1/pipeline-runs/${runId}`, { headers: { authorization: `Bearer ${s.key}` } })).json()) as { status: string; steps: Array<{ step: string; decidedBy: string | null }> };
    expect(r.status).toBe('succeeded');
    expect(r.steps.find((x) => x.step === 'gate')?.decidedBy).toBe('abe');
  });
});
