import fs from 'node:fs';
import path from 'node:path';
import { FluxError } from '../../core/index.js';

/**
 * Turns a failure to reach or open the metadata store into one sentence that names the database
 * (never its password) and says why, with a code that tells a script what kind of failure it is:
 * unreachable → TEMPORARILY_UNAVAILABLE (CLI exit 4), refused login → UNAUTHENTICATED (5),
 * no such database → RESOURCE_DOES_NOT_EXIST (3), a bad SQLite path → INVALID_PARAMETER_VALUE (2).
 * Anything it does not recognise is returned unchanged.
 */
export function describeDatabaseError(e: unknown, location: string): unknown {
  if (e instanceof FluxError || !(e instanceof Error)) return e;
  const err = e as Error & { code?: unknown; hostname?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const unreachable = (why: string): FluxError => new FluxError('TEMPORARILY_UNAVAILABLE', `cannot reach the database ${location} (${why})`);
  switch (code) {
    case 'ECONNREFUSED':
      return unreachable('connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return unreachable(`host name ${typeof err.hostname === 'string' ? `'${err.hostname}' ` : ''}not found`);
    case 'ETIMEDOUT':
      return unreachable('timed out');
    case 'EHOSTUNREACH':
      return unreachable('host unreachable');
    case 'ENETUNREACH':
      return unreachable('network unreachable');
    case 'ECONNRESET':
      return unreachable('the server closed the connection');
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification: unknown role, pg_hba refusal
      return new FluxError('UNAUTHENTICATED', `the database ${location} refused the login: ${err.message}`);
    case '3D000': // invalid_catalog_name
      return new FluxError('RESOURCE_DOES_NOT_EXIST', `the database ${location} does not exist: create it (createdb) or fix the URL`);
    case '53300': // too_many_connections
      return unreachable('the server has too many connections; lower FLUXOPS_DB_POOL_SIZE or raise max_connections');
    case '57P03': // cannot_connect_now
      return unreachable('the server is starting up or shutting down');
  }
  if (/connection timeout|timeout expired|timeout exceeded when trying to connect/i.test(err.message)) return unreachable('timed out connecting');
  if (/^Connection terminated unexpectedly/.test(err.message)) return unreachable('the server closed the connection');
  if (code.startsWith('SQLITE_') || /Cannot open database because the directory does not exist/.test(err.message)) {
    return new FluxError('INVALID_PARAMETER_VALUE', `cannot open the database file '${sqliteFile(location)}': ${sqliteReason(code, sqliteFile(location), err.message)}`);
  }
  return e;
}

function sqliteFile(location: string): string {
  return location.replace(/^sqlite:/, '');
}

/** SQLite says "unable to open database file" for every cause; look at the path to say which. */
function sqliteReason(code: string, file: string, message: string): string {
  if (code === 'SQLITE_NOTADB') return 'it is not a SQLite database';
  if (code === 'SQLITE_CORRUPT') return 'the database file is corrupt';
  if (code === 'SQLITE_READONLY') return 'the file or its folder is read-only';
  if (code === 'SQLITE_FULL') return 'no space left on the device';
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st?.isDirectory()) return 'it is a folder, not a file';
  const dir = path.dirname(path.resolve(file));
  const dirStat = fs.statSync(dir, { throwIfNoEntry: false });
  if (dirStat === undefined) return `its folder '${dir}' does not exist`;
  if (!dirStat.isDirectory()) return `'${dir}' is a file, not a folder`;
  try {
    fs.accessSync(st === undefined ? dir : file, fs.constants.W_OK);
  } catch {
    return 'permission denied';
  }
  return message;
}
