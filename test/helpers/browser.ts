import fs from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { UI_DIR } from '../../src/api/routes/ui.js';

/** Debian's Chromium (`apt-get install -y chromium`), or the one FLUXOPS_CHROMIUM names. */
export const CHROMIUM = process.env.FLUXOPS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null when they can. On CI (which installs Chromium
 * and builds the UI) a missing piece is a failure, not a skip.
 */
export function browserUnavailable(): string | null {
  const why = unavailableReason();
  if (why !== null) console.warn(`skipping the browser tests: ${why}`);
  return why;
}

function unavailableReason(): string | null {
  let why: string | null = null;
  if (!fs.existsSync(CHROMIUM)) why = `Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set FLUXOPS_CHROMIUM)`;
  else if (!fs.existsSync(path.join(UI_DIR, 'index.html'))) why = `the web UI is not built (${UI_DIR}): run npm run build`;
  if (why !== null && process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') throw new Error(`browser tests cannot run on CI: ${why}`);
  return why;
}

/** Headless Chromium driven by playwright-core, with the flags this machine needs. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}

/** Where the tests put screenshots: docs/ui when FLUXOPS_UI_SCREENSHOTS=1 (to commit them), else a temporary folder. */
export function screenshotDir(fallback: string): string {
  return process.env.FLUXOPS_UI_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/ui') : fallback;
}

/** Accessibility violations axe-core finds on the page as it is now (WCAG 2.0/2.1 A and AA, and best practices). */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  // A string runs in the page, so these Node tests need no DOM types.
  return page.evaluate<string[]>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
       .then((r) => r.violations.map((v) => v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).join('; ') + ')'))`,
  );
}
