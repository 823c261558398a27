import { DB_POOL_SIZE_RANGE, DB_STATEMENT_TIMEOUT_RANGE, parseIntegerSetting, type DatabaseSettings } from '../../core/index.js';

/** What the pg pool is opened with. */
export interface PostgresSettings {
  /** The URL handed to pg, without FluxOps' own parameters. */
  connectionString: string;
  poolSize: number;
  /** Sent as the session's statement_timeout; 0 = no limit. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

export const POSTGRES_DEFAULTS = {
  poolSize: 10,
  // Long enough for any query FluxOps makes, short enough that a stuck one frees its connection.
  statementTimeoutMs: 30_000,
  // pg waits forever by default; a black-holed host would otherwise hang a command for minutes.
  connectTimeoutMs: 10_000,
} as const;

/**
 * Reads `pool_size`, `statement_timeout` (ms) and `connect_timeout` (s, libpq's name and unit)
 * from a Postgres URL's query string, over the environment's settings and the defaults, and
 * removes them from the URL: pg would otherwise pass an unchecked `statement_timeout` on to the
 * server. Every other parameter (`sslmode`, `options`, …) is left for pg.
 */
export function postgresSettings(url: string, settings: Partial<DatabaseSettings> = {}): PostgresSettings {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  let removed = false;
  const take = (key: string, range: readonly [number, number]): number | undefined => {
    const value = params.get(key);
    if (value === null) return undefined;
    removed = true;
    params.delete(key);
    return parseIntegerSetting(value, `the database URL's ${key}`, range[0], range[1]);
  };
  const poolSize = take('pool_size', DB_POOL_SIZE_RANGE) ?? settings.poolSize ?? POSTGRES_DEFAULTS.poolSize;
  const statementTimeoutMs = take('statement_timeout', DB_STATEMENT_TIMEOUT_RANGE) ?? settings.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs;
  const connectTimeoutS = take('connect_timeout', [0, 3600]);
  const rest = params.toString();
  return {
    connectionString: !removed ? url : url.slice(0, q) + (rest === '' ? '' : `?${rest}`),
    poolSize,
    statementTimeoutMs,
    // libpq: 0 means wait indefinitely.
    connectTimeoutMs: connectTimeoutS === undefined ? POSTGRES_DEFAULTS.connectTimeoutMs : connectTimeoutS * 1000,
  };
}
