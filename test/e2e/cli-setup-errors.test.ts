import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { assertBuilt, runCli, type CliResult } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

// Every case runs the real CLI as a child process, bounded so that a hang (the old recursive
// mkdir on /proc spun forever) fails the test instead of stalling the run.
const BOUND_MS = 25_000;

let dir: string;
let aFile: string;

beforeAll(() => {
  assertBuilt();
  dir = freshHome('fluxops-cli-setup-');
  aFile = path.join(dir, 'a-file.txt');
  fs.writeFileSync(aFile, 'not a folder, not a database\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { env, timeoutMs: BOUND_MS });

/** The failure is exactly one line, `error: <sentence>`, with no stack under it. */
function expectOneSentence(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether mkdir under `parent` fails with a permission error even for this user (root too). */
function mkdirRefused(parent: string): boolean {
  try {
    fs.mkdirSync(path.join(parent, `fluxops-probe-${process.pid}`));
    fs.rmdirSync(path.join(parent, `fluxops-probe-${process.pid}`));
    return false;
  } catch (e) {
    return ['EACCES', 'EPERM', 'EROFS'].includes((e as NodeJS.ErrnoException).code ?? '');
  }
}

describe('CLI: a home that cannot be created is named in one sentence (exit 2)', () => {
  it('a file used as a folder of the home', async () => {
    const r = await cli(['--home', path.join(aFile, 'x', 'y'), 'runs', 'list']);
    expectOneSentence(r, 2, new RegExp(`cannot create the FluxOps home '${escape(path.join(aFile, 'x', 'y'))}': '${escape(aFile)}' is a file, not a folder`));
  });

  it.skipIf(!fs.existsSync('/proc/self'))('a home under /proc ends at once instead of spinning in mkdir', async () => {
    const r = await cli(['--home', '/proc/x', 'runs', 'list']);
    expectOneSentence(r, 2, /cannot create the FluxOps home '\/proc\/x': the file system at '\/proc' does not allow creating folders/);
  });

  it.skipIf(!fs.existsSync('/sys') || !mkdirRefused('/sys'))('a home where even root may not write: permission denied', async () => {
    const r = await cli(['--home', '/sys/fluxops-home/x', 'quickstart', '--no-serve']);
    expectOneSentence(r, 2, /cannot create the FluxOps home '\/sys\/fluxops-home\/x': permission denied/);
  });
});

describe('CLI: an unusable database is named, without its password', () => {
  it('connection refused → exit 4', async () => {
    const port = await closedPort();
    const r = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: `postgres://bob:s3cret@127.0.0.1:${port}/db?sslmode=disable` });
    expectOneSentence(r, 4, new RegExp(`cannot reach the database postgres://bob@127\\.0\\.0\\.1:${port}/db \\(connection refused\\)`));
    expect(r.stderr).not.toContain('s3cret');
  });

  it('a host name that does not resolve → exit 4', async () => {
    const r = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: 'postgres://bob:s3cret@no-such-host.invalid:5432/db' });
    expectOneSentence(r, 4, /cannot reach the database postgres:\/\/bob@no-such-host\.invalid:5432\/db \(host name 'no-such-host\.invalid' not found\)/);
    expect(r.stderr).not.toContain('s3cret');
  });

  const pgUrl = inject('pgUrl');
  it.skipIf(!pgUrl)('a database that does not exist → exit 3; a role that does not exist → exit 5', async () => {
    const missing = new URL(pgUrl);
    missing.pathname = '/fluxops_no_such_database';
    const r = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: missing.toString() });
    expectOneSentence(r, 3, /the database postgres:\/\/[^ ]*\/fluxops_no_such_database does not exist/);

    const stranger = new URL(pgUrl);
    stranger.username = 'fluxops_no_such_role';
    stranger.password = 'pw';
    const login = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: stranger.toString() });
    expectOneSentence(login, 5, /the database postgres:\/\/fluxops_no_such_role@[^ ]* refused the login: role "fluxops_no_such_role" does not exist/);
  });

  it('a SQLite path that is a folder, or a file that is not a database → exit 2', async () => {
    const folder = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: `sqlite:${dir}` });
    expectOneSentence(folder, 2, new RegExp(`cannot open the database file '${escape(dir)}': it is a folder, not a file`));
    const notDb = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: `sqlite:${aFile}` });
    expectOneSentence(notDb, 2, new RegExp(`cannot open the database file '${escape(aFile)}': it is not a SQLite database`));
  });

  it('a bad pool size or statement timeout is refused with a sentence → exit 2', async () => {
    const env = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DB_POOL_SIZE: 'ten' });
    expectOneSentence(env, 2, /FLUXOPS_DB_POOL_SIZE must be a whole number from 1 to 1000, not 'ten'/);
    const url = await cli(['--home', dir, 'runs', 'list'], { FLUXOPS_DATABASE_URL: 'postgres://u@127.0.0.1:1/db?statement_timeout=5s' });
    expectOneSentence(url, 2, /the database URL's statement_timeout must be a whole number from 0 to 2147483647, not '5s'/);
  });
});

describe('CLI: a folder or a missing file given to a file flag is named with the flag (exit 2)', () => {
  it('train --data <folder>, train --data <missing>', async () => {
    const home = path.join(dir, 'home-train');
    expectOneSentence(await cli(['--home', home, 'train', '--data', dir, '--target', 'y']), 2, new RegExp(`--data '${escape(dir)}': it is a folder; give a CSV file`));
    const missing = path.join(dir, 'missing.csv');
    expectOneSentence(await cli(['--home', home, 'train', '--data', missing, '--target', 'y']), 2, new RegExp(`--data '${escape(missing)}': no such file`));
  });

  it('quickstart --data <folder>', async () => {
    const r = await cli(['--home', path.join(dir, 'home-qs'), 'quickstart', '--data', dir, '--target', 'y', '--no-serve']);
    expectOneSentence(r, 2, new RegExp(`--data '${escape(dir)}': it is a folder; give a CSV file`));
  });

  it('predict --input <folder>, --output <folder>, --output in a missing folder', async () => {
    const home = path.join(dir, 'home-predict');
    expectOneSentence(await cli(['--home', home, 'predict', '--model', 'm', '--input', dir, '--output', path.join(dir, 'o.csv')]), 2, new RegExp(`--input '${escape(dir)}': it is a folder`));
    expectOneSentence(await cli(['--home', home, 'predict', '--model', 'm', '--input', aFile, '--output', dir]), 2, new RegExp(`--output '${escape(dir)}': it is a folder`));
    const nowhere = path.join(dir, 'no-folder', 'o.csv');
    expectOneSentence(await cli(['--home', home, 'predict', '--model', 'm', '--input', aFile, '--output', nowhere]), 2, /--output '.*': its folder '.*no-folder' does not exist/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
