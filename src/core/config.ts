import path from 'node:path';
import { FluxError } from './errors.js';
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
  /** Root of the local artifact store (`file:` scheme). */
  artifactRoot: string;
  /** `--artifacts-mode` / FLUXOPS_ARTIFACTS_MODE; `proxied` by default. */
  artifactsMode: ArtifactsMode;
}

export interface ConfigInput {
  home?: string | undefined;
  database?: Partial<DatabaseSettings> | undefined;
  databaseUrl?: string | undefined;
  artifactRoot?: string | undefined;
  artifactsMode?: string | undefined;
}

/** Bounds of the database settings, shared by the environment variables and the URL parameters. */
export const DB_POOL_SIZE_RANGE = [1, 1000] as const;
/** Postgres' own statement_timeout is an int of milliseconds. */
export const DB_STATEMENT_TIMEOUT_RANGE = [0, 2_147_483_647] as const;

/**
 * Resolves where state lives: flags first, then FLUXOPS_HOME / FLUXOPS_DATABASE_URL /
 * FLUXOPS_ARTIFACT_ROOT, then `./.fluxops` in the working directory.
 */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FluxConfig {
  const home = path.resolve(input.home ?? env.FLUXOPS_HOME ?? '.fluxops');
  const database = resolveDatabaseSettings(input.database, env);
  const databaseUrl = input.databaseUrl ?? env.FLUXOPS_DATABASE_URL ?? `sqlite:${path.join(home, 'fluxops.db')}`;
  const artifactRootRaw = input.artifactRoot ?? env.FLUXOPS_ARTIFACT_ROOT ?? path.join(home, 'artifacts');
  const artifactRoot = path.resolve(artifactRootRaw.replace(/^file:(\/\/)?/, ''));
  const artifactsMode = resolveArtifactsMode(input.artifactsMode ?? env.FLUXOPS_ARTIFACTS_MODE);
  return { home, database, databaseUrl, artifactRoot, artifactsMode };
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
