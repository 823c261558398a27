/**
 * The load generators of the benchmarks, always in a process of their own so that their CPU is
 * not the server's: Debian's `wrk` (C, one thread) when installed, else autocannon in a child
 * Node process. wrk is preferred: a generator that saturates before the server makes every
 * server look alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { ROOT } from './support.js';

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

export interface LoadResult {
  /** Completed responses. */
  requests: number;
  non2xx: number;
  /** Connect, read, write and timeout errors. */
  socketErrors: number;
  seconds: number;
  /** Latency percentiles in ms (wrk's with --latency; autocannon's at 1 ms resolution). */
  p50Ms: number;
  p99Ms: number;
}

/** Runs a command to completion and returns its stdout; a non-zero exit is an error with both streams. */
export function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}\n${out}\n${err}`))));
  });
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** wrk with one thread, `connections` connections, for `durationS`, driven by a Lua script; `args` follow `--`. */
export async function wrk(opts: { url: string; connections: number; durationS: number; scriptFile: string; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<LoadResult> {
  const out = await runChild('wrk', ['-t1', `-c${opts.connections}`, `-d${Math.max(1, Math.round(opts.durationS))}s`, '--timeout', '10s', '--latency', '-s', opts.scriptFile, opts.url, '--', ...(opts.args ?? [])], opts.env);
  const total = Number(/(\d+) requests in /.exec(out)?.[1]);
  if (!Number.isFinite(total)) throw new Error(`could not read wrk's output:\n${out}`);
  const dur = /requests in ([\d.]+)(us|ms|s|m)\b/.exec(out);
  const seconds = dur === null ? opts.durationS : (Number(dur[1]) * UNIT_MS[dur[2]!]!) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((s, v) => s + Number(v), 0);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m === null ? NaN : Number(m[1]) * UNIT_MS[m[2]!]!;
  };
  return { requests: total, non2xx, socketErrors, seconds, p50Ms: pct('50'), p99Ms: pct('99') };
}

/**
 * autocannon in a child process. `setupBody` is the source of a function `(n) => string` giving
 * the n-th request's body (evaluated in the child), or undefined for `body` on every request.
 */
export async function autocannonChild(opts: { url: string; method: string; headers: Record<string, string>; body?: string; setupBody?: string; connections: number; durationS: number }): Promise<LoadResult> {
  const script = `
    import autocannon from 'autocannon';
    let n = 0;
    const makeBody = ${opts.setupBody ?? 'undefined'};
    const r = await autocannon({
      url: ${JSON.stringify(opts.url)}, method: ${JSON.stringify(opts.method)}, connections: ${opts.connections}, duration: ${opts.durationS},
      headers: ${JSON.stringify(opts.headers)},
      ${opts.body !== undefined ? `body: ${JSON.stringify(opts.body)},` : ''}
      ...(makeBody === undefined ? {} : { requests: [{ setupRequest: (req) => ({ ...req, body: makeBody(++n) }) }] }),
    });
    console.log(JSON.stringify({ requests: r['2xx'] + r.non2xx, non2xx: r.non2xx, socketErrors: r.errors + r.timeouts, seconds: r.duration, p50Ms: r.latency.p50, p99Ms: r.latency.p99 }));`;
  const out = await runChild(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
}
