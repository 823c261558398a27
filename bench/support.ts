import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

/** The repository root, whether this runs from bench/ (sources) or dist-bench/bench/ (compiled). */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'bin', 'fluxops.js'))) return d;
    if (path.dirname(d) === d) throw new Error(`no FluxOps checkout above ${dir}`);
  }
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && metaUrl === pathToFileURL(path.resolve(process.argv[1])).href;
}

/** The spawned servers run the CLI from dist/; refuse to measure a stale or missing build. */
export function requireBuild(): void {
  const cli = path.join(ROOT, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (or npm run build:bench) first`);
}

export interface Child {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a node script that prints `… listening on http://host:port` and resolves with that URL. */
export async function spawnListening(args: string[], env: NodeJS.ProcessEnv = {}, label = args.join(' ')): Promise<Child> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no address within 60 s\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label}: exited before listening\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `fluxops server --port 0` on a home, with warn-level logs so logging does not dominate. */
export function startFluxServer(home: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const clean: NodeJS.ProcessEnv = { FLUXOPS_LOG_LEVEL: 'warn', FLUXOPS_HOME: undefined, FLUXOPS_DATABASE_URL: undefined, FLUXOPS_ARTIFACT_ROOT: undefined, FLUXOPS_URL: undefined, FLUXOPS_MODEL: undefined, ...env };
  return spawnListening([path.join(ROOT, 'bin', 'fluxops.js'), '--home', home, 'server', '--port', '0', ...extraArgs], clean, 'fluxops server');
}

export function tempHome(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** One line describing the machine, printed beside every figure. */
export function machine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}, load ${load}`;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function seconds(envName: string, dflt: number): number {
  const v = Number(process.env[envName]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** Runs one statement on the Postgres server named by an admin URL. */
async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates a fresh Postgres database for one benchmark part; `drop()` removes it. */
export async function freshPostgresDatabase(adminUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await adminQuery(adminUrl, `create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(adminUrl, `drop database if exists "${name}" with (force)`) };
}
