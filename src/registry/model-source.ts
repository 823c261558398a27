import { FluxError } from '../core/index.js';
import { safeRelativePath } from '../storage/artifacts/index.js';
import { localSourcePath } from './local-source.js';

/** What the logged-models context tells the registry about one logged model (MLflow 3). */
export interface LoggedModelRef {
  modelId: string;
  experimentId: string;
  name: string;
  /** `mlflow-artifacts:/<exp>/models/<id>/artifacts`, or a location outside FluxOps. */
  artifactLocation: string;
  sourceRunId: string;
}

/** Looks logged models up for registration; wired in by the composition root. */
export interface LoggedModelLookup {
  get(modelId: string): Promise<LoggedModelRef | undefined>;
  /** The newest live logged model a run produced under a name (MLflow 3 keeps models out of the run folder). */
  findForRun(runId: string, name: string): Promise<LoggedModelRef | undefined>;
}

/** MLflow 3 logged model ids: `m-` and 32 hex digits. */
export const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;

/** Parsed model version source, before anything is looked up. */
export type SourceRef =
  | { kind: 'logged-model'; modelId: string }
  | { kind: 'registered'; ref: string }
  | { kind: 'run'; runId: string; path: string }
  | { kind: 'artifacts'; path: string }
  /** A plain path or `file:` URI on the server's disk, resolved (MLflow's local sources). */
  | { kind: 'local'; path: string }
  | { kind: 'external'; why: string };

/**
 * Refuses sources that hold NUL or, unless local, climb out of their folder (`..`, also
 * percent-encoded), as MLflow's server does, then says what kind of source it is. A local source
 * (no scheme, or `file:`) is resolved instead, `..` and all, as MLflow resolves it; whether it may
 * be used depends on the run it names (`registry-service`).
 */
export function parseSource(source: unknown): SourceRef {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new FluxError('INVALID_PARAMETER_VALUE', 'source must be a non-empty string', { field: 'source' });
  }
  let decoded = source;
  try {
    decoded = decodeURIComponent(source);
  } catch {
    // not percent-encoded text; check it as it is
  }
  const local = decoded.includes('\u0000') ? undefined : localSourcePath(source);
  if (local !== undefined) return { kind: 'local', path: local };
  if (decoded.includes('\u0000') || /(^|[/\\])\.\.([/\\]|$)/.test(decoded)) {
    throw new FluxError(
      'INVALID_PARAMETER_VALUE',
      `If supplying a source as an http, https, s3, mlflow-artifacts or any other URI, it must not hold relative path references ('..') or NUL characters: '${source.slice(0, 200)}'`,
      { field: 'source' },
    );
  }
  const logged = /^models:\/+(m-[0-9a-f]{32})\/*$/.exec(source);
  if (logged !== null) return { kind: 'logged-model', modelId: logged[1]! };
  if (source.startsWith('models:/')) return { kind: 'registered', ref: source };
  const runs = /^runs:\/+([^/]+)(?:\/+(.*))?$/.exec(source);
  if (runs !== null) return { kind: 'run', runId: runs[1]!, path: runs[2] ?? '' };
  if (source.startsWith('runs:')) return { kind: 'external', why: `'${source}' is not a runs:/<run_id>/<path> URI` };
  const proxied = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/.exec(source);
  if (proxied !== null) {
    // `mlflow-artifacts://host:port/…` names another server's artifact proxy.
    if (proxied[1] !== undefined && proxied[1] !== '') return { kind: 'external', why: `'${source}' is on another artifact server` };
    return { kind: 'artifacts', path: safeRelativePath((proxied[2] ?? '').replace(/^\/+/, ''), 'source').join('/') };
  }
  return { kind: 'external', why: 'the source is outside FluxOps' };
}
