import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { UI_DIR } from '../../src/api/routes/ui.js';

/** Debian's Chromium (`apt-get install -y chromium`), or the one FLUXOPS_CHROMIUM names. */
export const CHROMIUM = process.env.FLUXOPS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null when they can. On CI (which installs Chromium
 * and builds the UI) a missing piece is a failure, not a skip.
 */
export function browserUnavailable(): string | null {
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
