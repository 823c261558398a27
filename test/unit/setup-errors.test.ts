import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/output.js';
import { FluxError, resolveConfig } from '../../src/core/index.js';
import { createFolder, folderErrorReason } from '../../src/storage/fs/index.js';
import { describeDatabaseError, postgresSettings, redact } from '../../src/storage/db/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-setup-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const errno = (code: string, message = code, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { code, ...extra });

function asFlux(e: unknown): FluxError {
  expect(e).toBeInstanceOf(FluxError);
  return e as FluxError;
}

describe('folder failures as sentences', () => {
  // Tests run as root, which no mode bit stops: the errno → reason mapping is checked directly.
  it('says permission denied for EACCES and EPERM, and names read-only, file-in-the-way and full disks', () => {
    expect(folderErrorReason('EACCES', '/x')).toBe('permission denied');
    expect(folderErrorReason('EPERM', '/x')).toBe('permission denied');
    expect(folderErrorReason('EROFS', '/x')).toBe('the file system is read-only');
    expect(folderErrorReason('ENOTDIR', '/etc/hosts')).toBe("'/etc/hosts' is a file, not a folder");
    expect(folderErrorReason('ENOSPC', '/x')).toBe('no space left on the device');
    expect(folderErrorReason('EWHATEVER', '/x')).toBe('the system refused it (EWHATEVER)');
  });

  it('creates missing segments one at a time, and names the file standing in the way', () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    expect(createFolder(deep, 'the FluxOps home')).toBe(deep);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    expect(createFolder(deep, 'the FluxOps home')).toBe(deep); // existing: fine
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    const e = asFlux(catching(() => createFolder(path.join(file, 'x', 'y'), 'the FluxOps home')));
    expect(e.code).toBe('INVALID_PARAMETER_VALUE');
    expect(e.message).toBe(`cannot create the FluxOps home '${path.join(file, 'x', 'y')}': '${file}' is a file, not a folder`);
  });
});

describe('database failures as sentences naming the database', () => {
  const at = 'postgres://bob@db.example:5432/flux';
  it.each([
    [errno('ECONNREFUSED'), 'TEMPORARILY_UNAVAILABLE', `cannot reach the database ${at} (connection refused)`, 4],
    [errno('ENOTFOUND', 'getaddrinfo ENOTFOUND db.example', { hostname: 'db.example' }), 'TEMPORARILY_UNAVAILABLE', `cannot reach the database ${at} (host name 'db.example' not found)`, 4],
    [errno('ETIMEDOUT'), 'TEMPORARILY_UNAVAILABLE', `cannot reach the database ${at} (timed out)`, 4],
    [new Error('Connection terminated due to connection timeout'), 'TEMPORARILY_UNAVAILABLE', `cannot reach the database ${at} (timed out connecting)`, 4],
    [errno('28P01', 'password authentication failed for user "bob"'), 'UNAUTHENTICATED', `the database ${at} refused the login: password authentication failed for user "bob"`, 5],
    [errno('3D000', 'database "flux" does not exist'), 'RESOURCE_DOES_NOT_EXIST', `the database ${at} does not exist: create it (createdb) or fix the URL`, 3],
  ] as const)('%s', (error, code, message, exit) => {
    const e = asFlux(describeDatabaseError(error, at));
    expect([e.code, e.message, exitCodeFor(e.code)]).toEqual([code, message, exit]);
  });

  it('leaves failures it does not know unchanged', () => {
    const other = new Error('something else');
    expect(describeDatabaseError(other, at)).toBe(other);
  });

  it('names a SQLite file that cannot be opened', () => {
    const e = asFlux(describeDatabaseError(errno('SQLITE_CANTOPEN', 'unable to open database file'), `sqlite:${dir}`));
    expect(e.message).toBe(`cannot open the database file '${dir}': it is a folder, not a file`);
    expect(exitCodeFor(e.code)).toBe(2);
  });

  it('redacts the password and the query string of a URL', () => {
    expect(redact('postgres://bob:s3cr/et@h:5499/db?password=x&sslmode=require')).toBe('postgres://bob@h:5499/db');
    expect(redact('postgresql://h/db')).toBe('postgresql://h/db');
  });
});

describe('Postgres settings', () => {
  it('defaults to a pool of 10, a 30 s statement timeout and a 10 s connect timeout, leaving the URL alone', () => {
    const url = 'postgres://u@h/db?options=-c%20search_path%3Ds1';
    expect(postgresSettings(url)).toEqual({ connectionString: url, poolSize: 10, statementTimeoutMs: 30_000, connectTimeoutMs: 10_000 });
  });

  it('takes the environment settings, and the URL parameters over them, removing those from the URL', () => {
    const env = resolveConfig({ home: dir }, { FLUXOPS_DB_POOL_SIZE: '4', FLUXOPS_DB_STATEMENT_TIMEOUT_MS: '1500' }).database;
    expect(env).toEqual({ poolSize: 4, statementTimeoutMs: 1500 });
    expect(postgresSettings('postgres://u@h/db', env)).toMatchObject({ poolSize: 4, statementTimeoutMs: 1500 });
    const s = postgresSettings('postgres://u@h/db?pool_size=3&sslmode=require&statement_timeout=0&connect_timeout=2', env);
    expect(s).toEqual({ connectionString: 'postgres://u@h/db?sslmode=require', poolSize: 3, statementTimeoutMs: 0, connectTimeoutMs: 2000 });
  });

  it('refuses values that are not whole numbers in range, naming the setting', () => {
    expect(() => resolveConfig({ home: dir }, { FLUXOPS_DB_POOL_SIZE: '0' })).toThrow("FLUXOPS_DB_POOL_SIZE must be a whole number from 1 to 1000, not '0'");
    expect(() => resolveConfig({ home: dir }, { FLUXOPS_DB_STATEMENT_TIMEOUT_MS: '1e3' })).toThrow("FLUXOPS_DB_STATEMENT_TIMEOUT_MS must be a whole number from 0 to 2147483647, not '1e3'");
    expect(() => postgresSettings('postgres://u@h/db?pool_size=-1')).toThrow("the database URL's pool_size must be a whole number from 1 to 1000, not '-1'");
    expect(() => postgresSettings('postgres://u@h/db?statement_timeout=30s')).toThrow(FluxError);
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}
