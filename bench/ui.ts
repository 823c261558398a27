/**
 * The web UI's size and speed (`npm run bench:ui`):
 * (a) the bytes of the entry bundle (JavaScript and CSS of dist/ui/index.html), raw and gzipped;
 * (b) time to the first rows of the runs page over 10,000 runs (4 metrics, 2 params each), in
 *     Debian's Chromium against a real `fluxops server` (a child process): from navigation start
 *     to the page's own mark once its first rows are rendered, median of several fresh page loads, next to the baseline
 *     measured in the same run, the API calls the page makes for them (experiments/search, then
 *     runs/search for the first 200 runs) timed from Node, so the ratio is what the page adds to
 *     the data it waits for;
 * (c) scrolling the whole list (which loads the other pages as it goes): frames over 50 ms.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { openPlatform } from '../src/platform.js';
import { ROOT, fmt, isMain, machine, requireBuild, startFluxServer, tempHome } from './support.js';

const RUNS = Number(process.env.FLUXOPS_BENCH_UI_RUNS ?? 10_000);
const LOADS = 7;
const CHROMIUM = process.env.FLUXOPS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Runs in the page (a string, so that this Node program needs no DOM types): scrolls the runs
 * table down 1,500 px a frame until every run is loaded and the end is reached, timing frames.
 */
const SCROLL_ALL = `async (total) => {
  const el = document.querySelector('.scroller');
  const frames = [];
  let last = performance.now();
  const start = last;
  while (document.querySelector('p[aria-live]').textContent !== total.toLocaleString() + ' runs.' || el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
    el.scrollTop += 1500;
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    frames.push(now - last);
    last = now;
    if (now - start > 120000) break;
  }
  return { ms: performance.now() - start, frames: frames.length, long: frames.filter((f) => f > 50).length, worst: Math.max(...frames), rows: document.querySelectorAll('tbody tr[data-run]').length };
}`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function bundle(): { js: number; jsGzip: number; css: number; cssGzip: number; files: string[] } {
  const dir = path.join(ROOT, 'dist', 'ui');
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  const size = (ext: string) => {
    const bytes = files.filter((f) => f.endsWith(ext)).map((f) => fs.readFileSync(path.join(dir, f)));
    return { raw: bytes.reduce((a, b) => a + b.length, 0), gzip: bytes.reduce((a, b) => a + zlib.gzipSync(b, { level: 9 }).length, 0) };
  };
  const js = size('.js');
  const css = size('.css');
  return { js: js.raw, jsGzip: js.gzip, css: css.raw, cssGzip: css.gzip, files };
}

async function seed(home: string): Promise<void> {
  const platform = await openPlatform({ home });
  try {
    let s = 12345;
    const rand = (): number => {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      return s / 2 ** 31;
    };
    for (let i = 0; i < RUNS; i++) {
      const run = await platform.tracking.createRun({ experimentId: '0', runName: `run-${i}`, startTime: 1_700_000_000_000 + i * 1000 });
      await platform.tracking.logBatch(run.info.runId, {
        metrics: ['f1', 'auc', 'accuracy', 'loss'].map((key) => ({ key, value: rand(), timestamp: 1_700_000_000_000 + i, step: 0 })),
        params: [
          { key: 'C', value: String(i % 7) },
          { key: 'solver', value: i % 2 === 0 ? 'lbfgs' : 'newton' },
        ],
      });
    }
  } finally {
    await platform.close();
  }
}

export async function benchUi(log: (line: string) => void = console.log): Promise<void> {
  requireBuild();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'ui', 'index.html'))) throw new Error('dist/ui is missing: run npm run build first');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set FLUXOPS_CHROMIUM)`);
  log(`machine: ${machine()}`);
  const b = bundle();
  log(`entry bundle: JavaScript ${fmt(b.jsGzip)} bytes gzipped (${fmt(b.js)} raw), CSS ${fmt(b.cssGzip)} bytes gzipped (${fmt(b.css)} raw); files ${b.files.join(', ')}`);

  const home = tempHome('fluxops-bench-ui-');
  const t0 = performance.now();
  await seed(home);
  log(`seeded ${fmt(RUNS)} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const server = await startFluxServer(home);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    // Baseline: the first page of runs the UI asks for, straight from the API.
    // The two calls the page makes before its first rows (its first page is 200 runs: ui/src/pages/runs.tsx FIRST_PAGE).
    const body = JSON.stringify({ experiment_ids: ['0'], filter: '', max_results: 200, order_by: ['attributes.start_time DESC'] });
    const api: number[] = [];
    for (let i = 0; i < LOADS + 2; i++) {
      const a = performance.now();
      const e = await fetch(`${server.url}/api/2.0/mlflow/experiments/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"max_results": 1000}' });
      await e.arrayBuffer();
      const r = await fetch(`${server.url}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await r.arrayBuffer();
      if (i >= 2) api.push(performance.now() - a);
    }
    const first: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < LOADS + 1; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${server.url}/`);
      await page.waitForSelector('tbody tr[data-run]');
      // The page marks when its first rows are rendered (ui/src/pages/runs.tsx).
      await page.waitForFunction("performance.getEntriesByName('fluxops:first-rows').length > 0");
      const ms = await page.evaluate<number>("performance.getEntriesByName('fluxops:first-rows')[0].startTime");
      const dom = await page.evaluate<number>("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd");
      if (i > 0) {
        first.push(ms);
        ready.push(dom);
      }
      await page.close();
    }
    const apiMs = median(api);
    const firstMs = median(first);
    log(
      `runs page, ${fmt(RUNS)} runs: first rows ${fmt(firstMs, 1)} ms after navigation (median of ${LOADS} loads; the document and its scripts ready at ${fmt(median(ready), 1)} ms); ` +
        `the page's API calls alone ${fmt(apiMs, 1)} ms → first rows in ${(firstMs / apiMs).toFixed(2)}× the data's own time`,
    );

    // Scroll through every run: pages of 1,000 load as the end comes near; count long frames.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('tbody tr[data-run]');
    const scroll = await page.evaluate<{ ms: number; frames: number; long: number; worst: number; rows: number }>(`(${SCROLL_ALL})(${RUNS})`);
    log(`scrolling all ${fmt(RUNS)} runs: ${fmt(scroll.ms)} ms, ${fmt(scroll.frames)} frames, ${scroll.long} over 50 ms (worst ${fmt(scroll.worst, 1)} ms); rows in the document at the end: ${scroll.rows}`);
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await benchUi();
