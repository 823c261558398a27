import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/*
 * `fluxops/client` is what a training script imports: it must load no server code. Each check
 * imports a built module in a fresh Node process with an ESM resolve hook (module.register) that
 * records every module it resolves, and also lists the CommonJS modules loaded (require.cache),
 * since a CommonJS package loads its own dependencies with require().
 */
const SERVER_PACKAGES = ['better-sqlite3', 'pg', 'fastify', 'kysely', 'pino'];

let dir: string;
beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist/client/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-sdk-imports-'));
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import fs from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(log, r.url + '\\n');
  return r;
}
`,
  );
  fs.writeFileSync(
    path.join(dir, 'main.mjs'),
    `import { register, createRequire } from 'node:module';
const [hooks, log, target] = process.argv.slice(2);
if (hooks !== '-') register(hooks, { data: { log } });
const t0 = performance.now();
await import(target);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, cjs: Object.keys(createRequire(import.meta.url).cache) }));
`,
  );
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function load(module: string, hooked = true): { ms: number; resolved: string[]; cjs: string[] } {
  const log = path.join(dir, `resolved-${path.basename(path.dirname(module))}.txt`);
  fs.writeFileSync(log, '');
  const target = pathToFileURL(path.join(ROOT, module)).href;
  const hooks = hooked ? pathToFileURL(path.join(dir, 'hooks.mjs')).href : '-';
  const r = spawnSync(process.execPath, [path.join(dir, 'main.mjs'), hooks, log, target], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { ms: number; cjs: string[] };
  return { ms: out.ms, cjs: out.cjs, resolved: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
}

const packagesIn = (files: string[]) => [...new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []))];

describe('fluxops/client loads no server code', () => {
  it('resolves only the client, core and pure modules, and no package at all', () => {
    const { resolved, cjs } = load('dist/client/index.js');
    const mine = resolved.filter((u) => u.startsWith('file:')).map((u) => path.relative(path.join(ROOT, 'dist'), new URL(u).pathname));
    expect(mine).toContain('client/index.js');
    const loaded = packagesIn([...resolved, ...cjs]);
    for (const p of SERVER_PACKAGES) expect(loaded, `the SDK loads ${p}`).not.toContain(p);
    expect(loaded).toEqual([]);
    for (const f of mine) expect(f, `the SDK loads ${f}`).toMatch(/^(client\/|core\/|registry\/model-ref\.js$)/);
  });

  it('detects server code where there is some (the registry context loads its store)', () => {
    const { resolved, cjs } = load('dist/registry/index.js');
    const loaded = packagesIn([...resolved, ...cjs]);
    for (const p of ['better-sqlite3', 'pg', 'kysely']) expect(loaded).toContain(p);
  });

  // Printed, not asserted (the machine is shared): the import time without the hook's overhead.
  it('prints its load time', () => {
    const client = load('dist/client/index.js', false).ms;
    const server = load('dist/api/index.js', false).ms;
    console.log(`import fluxops/client: ${client.toFixed(0)} ms; the server's api module, for comparison: ${server.toFixed(0)} ms`);
    expect(client).toBeGreaterThan(0);
  });
});
