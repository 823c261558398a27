import { FluxError } from '../../core/index.js';

/**
 * True for a driver error that says a unique or primary key was violated: Postgres' SQLSTATE
 * 23505 (node-postgres puts it in `code`), better-sqlite3's extended result codes.
 */
export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || e instanceof FluxError) return false;
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Runs a write whose unique key says "this thing exists already" and turns a violation of that key
 * into RESOURCE_ALREADY_EXISTS with the message the caller would give without a race. A check
 * before the insert cannot see a row another server is inserting at the same moment; the key can,
 * so the stores rely on it and map it here, once, rather than answering a 500.
 */
export async function uniqueOrAlreadyExists<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new FluxError('RESOURCE_ALREADY_EXISTS', message);
    throw e;
  }
}
