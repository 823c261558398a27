import { FluxError } from './errors.js';
import path from 'node:path';
import { parseIntegerSetting } from './settings.js';

/** Postgres connection settings; undefined leaves the default (or the URL's parameter). */
export interface DatabaseSettings {
  /** Connections per process (`FLUXOPS_DB_POOL_SIZE`). */
  poolSize: number | undefined;
  /** Longest a statement may run before Postgres cancels it (`FLUXOPS_DB_STATEMENT_TIMEOUT_MS`); 0 = no limit. */
  statementTimeoutMs: number | undefined;
}

/**
 * How clients reach artifacts (MLflow's two server set-ups): `proxied`, through this server's
 * artifact API (`mlflow-artifacts:/` URIs), or `direct`, in the artifact store itself (its own
 * `file://`, `s3://`… URIs), as `mlflow server --no-serve-artifacts` does.
 */
export type ArtifactsMode = 'proxied' | 'direct';
export const ARTIFACTS_MODES: readonly ArtifactsMode[] = ['proxied', 'direct'];

export interface FluxConfig {
  /** Folder holding the embedded store and artifacts. */
  home: string;
  /** Pool size and statement timeout of a Postgres store. */
  database: DatabaseSettings;
  /** `sqlite:<file>` or `postgres://…`. */
  databaseUrl: string;
  /**
   * Root of the artifact store: an absolute folder path, or a URI with a scheme (`s3://…`,
   * `azure://…`, `wasbs://…`) kept as given for the artifact store to validate.
   */
  artifactRoot: string;
  /** Event wake-ups: LISTEN/NOTIFY on Postgres (FLUXOPS_EVENTS_LISTEN=off disables it). */
  eventsListen: boolean;
  /** How often the event outbox is read without a wake-up, in ms; 0 never (FLUXOPS_EVENTS_POLL_MS). */
  eventsPollMs: number;
  /**
   * SQLite: commit concurrent single writes (metric, param, tag, batch) together, one fsync per
   * group. On unless FLUXOPS_GROUP_COMMIT is `off`/`0`/`false` (kept for measuring the difference).
   */
  groupCommit: boolean;
  /** `--artifacts-mode` / FLUXOPS_ARTIFACTS_MODE; `proxied` by default. */
  artifactsMode: ArtifactsMode;
  /** Webhook deliveries: retries, timeout, how often due ones are looked for (FLUXOPS_WEBHOOK_*). */
  webhooks: WebhookSettings;
  /** How often scheduled monitor checks (and alert rules) are looked for, in ms (FLUXOPS_MONITOR_TICK_MS, default 5000). */
  monitorTickMs: number;
  /** Where alert email goes out (FLUXOPS_SMTP_URL: smtp://user:pass@host:port or smtps://…) and from whom (FLUXOPS_SMTP_FROM). */
  smtp: { url: string | undefined; from: string | undefined };
}

/** How webhook deliveries are sent and retried. */
export interface WebhookSettings {
  /** The first retry's delay; each next one doubles it, with ±20 % jitter (FLUXOPS_WEBHOOK_RETRY_BASE_MS, default 1000). */
  retryBaseMs: number;
  /** The longest delay between two attempts (FLUXOPS_WEBHOOK_RETRY_MAX_MS, default 600000). */
  retryMaxMs: number;
  /** Attempts before a delivery fails for good (FLUXOPS_WEBHOOK_MAX_ATTEMPTS, default 8). */
  maxAttempts: number;
  /** How long one attempt may take (FLUXOPS_WEBHOOK_TIMEOUT_MS, default 10000). */
  timeoutMs: number;
  /** How often a server looks for due deliveries without a wake-up (FLUXOPS_WEBHOOK_POLL_MS, default 1000). */
  pollMs: number;
}

export interface ConfigInput {
  home?: string | undefined;
  database?: Partial<DatabaseSettings> | undefined;
  databaseUrl?: string | undefined;
  artifactRoot?: string | undefined;
  eventsListen?: boolean | undefined;
  eventsPollMs?: number | undefined;
  groupCommit?: boolean | undefined;
  artifactsMode?: string | undefined;
  webhooks?: Partial<WebhookSettings> | undefined;
  monitorTickMs?: number | undefined;
  smtp?: { url?: string | undefined; from?: string | undefined } | undefined;
}

/** Bounds of the database settings, shared by the environment variables and the URL parameters. */
export const DB_POOL_SIZE_RANGE = [1, 1000] as const;
/** Postgres' own statement_timeout is an int of milliseconds. */
export const DB_STATEMENT_TIMEOUT_RANGE = [0, 2_147_483_647] as const;

/**
 * SQLite has no notifications, and several processes may share one file: a short poll of the
 * outbox is their wake-up. On Postgres NOTIFY wakes the replicas; the slow poll only backs it up.
 */
const EVENTS_POLL_MS = { sqlite: 500, postgres: 10_000 };

function nonEmptyEnv(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/**
 * Resolves where state lives: flags first, then FLUXOPS_HOME / FLUXOPS_DATABASE_URL /
 * FLUXOPS_ARTIFACT_ROOT, then `./.fluxops` in the working directory.
 */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FluxConfig {
  const home = path.resolve(input.home ?? env.FLUXOPS_HOME ?? '.fluxops');
  const database = resolveDatabaseSettings(input.database, env);
  const databaseUrl = input.databaseUrl ?? env.FLUXOPS_DATABASE_URL ?? `sqlite:${path.join(home, 'fluxops.db')}`;
  const artifactRootRaw = input.artifactRoot ?? env.FLUXOPS_ARTIFACT_ROOT ?? path.join(home, 'artifacts');
  const artifactRoot = resolveArtifactRoot(artifactRootRaw);
  const eventsListen = input.eventsListen ?? !/^(0|off|false|no)$/i.test(env.FLUXOPS_EVENTS_LISTEN ?? '');
  const pollEnv = env.FLUXOPS_EVENTS_POLL_MS;
  const eventsPollMs = input.eventsPollMs ?? (pollEnv !== undefined && pollEnv !== '' ? nonNegativeInt(pollEnv, 'FLUXOPS_EVENTS_POLL_MS') : EVENTS_POLL_MS[/^postgres(ql)?:/.test(databaseUrl) ? 'postgres' : 'sqlite']);
  const groupCommit = input.groupCommit ?? !/^(off|0|false|no)$/i.test(env.FLUXOPS_GROUP_COMMIT ?? '');
  const artifactsMode = resolveArtifactsMode(input.artifactsMode ?? env.FLUXOPS_ARTIFACTS_MODE);
  const webhooks = resolveWebhookSettings(input.webhooks, env);
  const tickEnv = env.FLUXOPS_MONITOR_TICK_MS;
  const monitorTickMs = input.monitorTickMs ?? (tickEnv !== undefined && tickEnv !== '' ? Math.max(50, nonNegativeInt(tickEnv, 'FLUXOPS_MONITOR_TICK_MS')) : 5000);
  const smtp = { url: input.smtp?.url ?? nonEmptyEnv(env.FLUXOPS_SMTP_URL), from: input.smtp?.from ?? nonEmptyEnv(env.FLUXOPS_SMTP_FROM) };
  return { home, database, databaseUrl, artifactRoot, eventsListen, eventsPollMs, groupCommit, artifactsMode, webhooks, monitorTickMs, smtp };
}

/** The FLUXOPS_WEBHOOK_* settings (or the programmatic values), validated. */
function resolveWebhookSettings(given: Partial<WebhookSettings> | undefined, env: NodeJS.ProcessEnv): WebhookSettings {
  const setting = (value: number | undefined, name: string, fallback: number, min: number, max: number): number => {
    if (value !== undefined) return parseIntegerSetting(String(value), name, min, max);
    const text = env[name];
    return text === undefined || text === '' ? fallback : parseIntegerSetting(text, name, min, max);
  };
  return {
    retryBaseMs: setting(given?.retryBaseMs, 'FLUXOPS_WEBHOOK_RETRY_BASE_MS', 1000, 1, 3_600_000),
    retryMaxMs: setting(given?.retryMaxMs, 'FLUXOPS_WEBHOOK_RETRY_MAX_MS', 600_000, 1, 86_400_000),
    maxAttempts: setting(given?.maxAttempts, 'FLUXOPS_WEBHOOK_MAX_ATTEMPTS', 8, 1, 50),
    timeoutMs: setting(given?.timeoutMs, 'FLUXOPS_WEBHOOK_TIMEOUT_MS', 10_000, 100, 600_000),
    pollMs: setting(given?.pollMs, 'FLUXOPS_WEBHOOK_POLL_MS', 1000, 10, 600_000),
  };
}

function resolveArtifactsMode(given: string | undefined): ArtifactsMode {
  if (given === undefined || given === '') return 'proxied';
  const mode = ARTIFACTS_MODES.find((m) => m === given);
  if (mode === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', `the artifacts mode must be proxied or direct (--artifacts-mode, FLUXOPS_ARTIFACTS_MODE), got '${given.slice(0, 100)}'`);
  return mode;
}

/** FLUXOPS_DB_POOL_SIZE and FLUXOPS_DB_STATEMENT_TIMEOUT_MS (or the programmatic values), validated. */
function resolveDatabaseSettings(given: Partial<DatabaseSettings> | undefined, env: NodeJS.ProcessEnv): DatabaseSettings {
  const setting = (value: number | undefined, name: string, [min, max]: readonly [number, number]): number | undefined => {
    if (value !== undefined) return parseIntegerSetting(String(value), name, min, max);
    const text = env[name];
    return text === undefined || text === '' ? undefined : parseIntegerSetting(text, name, min, max);
  };
  return {
    poolSize: setting(given?.poolSize, 'FLUXOPS_DB_POOL_SIZE', DB_POOL_SIZE_RANGE),
    statementTimeoutMs: setting(given?.statementTimeoutMs, 'FLUXOPS_DB_STATEMENT_TIMEOUT_MS', DB_STATEMENT_TIMEOUT_RANGE),
  };
}

function nonNegativeInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${name} must be a non-negative integer (ms), got '${v}'`);
  return n;
}

/**
 * A plain path or `file:` root becomes an absolute folder path; any other URI is kept intact
 * (resolving `s3://bucket/x` as a path would silently make a local folder named `s3:`).
 * A one-letter "scheme" is a Windows drive letter, so a path.
 */
export function resolveArtifactRoot(raw: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
  if (scheme !== undefined && scheme.length > 1 && scheme.toLowerCase() !== 'file') return raw;
  if (scheme?.toLowerCase() === 'file') {
    const rest = raw.slice('file:'.length);
    // file://host/… names another machine: left for the artifact store to refuse with its sentence.
    if (rest.startsWith('//') && !/^\/\/(localhost)?\//i.test(rest)) return raw;
    return path.resolve(rest.replace(/^\/\/(localhost)?(?=\/)/i, ''));
  }
  return path.resolve(raw);
}
