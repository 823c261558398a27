import { FluxError } from './errors.js';
import path from 'node:path';

export interface FluxConfig {
  /** Folder holding the embedded store and artifacts. */
  home: string;
  /** `sqlite:<file>` or `postgres://…`. */
  databaseUrl: string;
  /** Root of the local artifact store (`file:` scheme). */
  artifactRoot: string;
  /** Event wake-ups: LISTEN/NOTIFY on Postgres (FLUXOPS_EVENTS_LISTEN=off disables it). */
  eventsListen: boolean;
  /** How often the event outbox is read without a wake-up, in ms; 0 never (FLUXOPS_EVENTS_POLL_MS). */
  eventsPollMs: number;
}

export interface ConfigInput {
  home?: string | undefined;
  databaseUrl?: string | undefined;
  artifactRoot?: string | undefined;
  eventsListen?: boolean | undefined;
  eventsPollMs?: number | undefined;
}

/**
 * SQLite has no notifications, and several processes may share one file: a short poll of the
 * outbox is their wake-up. On Postgres NOTIFY wakes the replicas; the slow poll only backs it up.
 */
const EVENTS_POLL_MS = { sqlite: 500, postgres: 10_000 };

/**
 * Resolves where state lives: flags first, then FLUXOPS_HOME / FLUXOPS_DATABASE_URL /
 * FLUXOPS_ARTIFACT_ROOT, then `./.fluxops` in the working directory.
 */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FluxConfig {
  const home = path.resolve(input.home ?? env.FLUXOPS_HOME ?? '.fluxops');
  const databaseUrl = input.databaseUrl ?? env.FLUXOPS_DATABASE_URL ?? `sqlite:${path.join(home, 'fluxops.db')}`;
  const artifactRootRaw = input.artifactRoot ?? env.FLUXOPS_ARTIFACT_ROOT ?? path.join(home, 'artifacts');
  const artifactRoot = path.resolve(artifactRootRaw.replace(/^file:(\/\/)?/, ''));
  const eventsListen = input.eventsListen ?? !/^(0|off|false|no)$/i.test(env.FLUXOPS_EVENTS_LISTEN ?? '');
  const pollEnv = env.FLUXOPS_EVENTS_POLL_MS;
  const eventsPollMs = input.eventsPollMs ?? (pollEnv !== undefined && pollEnv !== '' ? nonNegativeInt(pollEnv, 'FLUXOPS_EVENTS_POLL_MS') : EVENTS_POLL_MS[/^postgres(ql)?:/.test(databaseUrl) ? 'postgres' : 'sqlite']);
  return { home, databaseUrl, artifactRoot, eventsListen, eventsPollMs };
}

function nonNegativeInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `${name} must be a non-negative integer (ms), got '${v}'`);
  return n;
}
