import fs from 'node:fs';
import path from 'node:path';
import { FluxError } from '../core/index.js';

/**
 * MLflow's rule for local model-version sources (`_validate_source` in its server handlers):
 * a source with no URI scheme (a plain path, absolute or relative to the server's working
 * directory) or a `file:` URI names the server's own disk, so it is refused unless the request
 * gives a `run_id` and the path, once resolved, lies within that run's artifact folder. Every
 * other scheme (`runs:/`, `models:/`, `mlflow-artifacts:/`, `s3://`, `http(s)://`, …) is not
 * local and goes on to the other checks.
 */
export const LOCAL_SOURCE_RULE =
  'To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.';

export function localSourceRefused(shown: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `Invalid model version source: '${shown.slice(0, 500)}'. ${LOCAL_SOURCE_RULE}`, { field: 'source' });
}

/** Python's urlparse: a scheme is a letter then letters, digits, `+`, `-` or `.`, before a colon. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * The absolute, normalised path a local source names (percent-decoding and `..` applied, as
 * MLflow's `local_file_uri_to_path` and `Path.resolve()` do), or undefined when the source is
 * not local. A `file:` URI naming another host is refused: it cannot be checked against a run.
 */
export function localSourcePath(source: string, cwd = process.cwd()): string | undefined {
  const scheme = SCHEME.exec(source)?.[1]?.toLowerCase();
  let filePath: string;
  if (scheme === undefined) {
    filePath = source;
  } else if (scheme === 'file') {
    const rest = source.slice('file:'.length);
    const authority = rest.startsWith('//') ? /^\/\/([^/?#]*)/.exec(rest)![1]! : undefined;
    const host = authority?.replace(/^.*@/, '').replace(/:\d*$/, '').toLowerCase() ?? '';
    // As MLflow: these hosts are this machine.
    if (host !== '' && host !== '.' && !host.startsWith('localhost') && !host.startsWith('127.0.0.1')) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `Invalid model version source: '${source.slice(0, 500)}'. A file: URI must name a path on this server, not on host '${host}'`, { field: 'source' });
    }
    filePath = (authority === undefined ? rest : rest.slice(2 + authority.length)).replace(/[?#].*$/s, '');
  } else {
    return undefined;
  }
  return path.resolve(cwd, unquote(filePath));
}

/**
 * The path of a resolved local source relative to a run's artifact folder (`[]` for the folder
 * itself), or undefined when it lies outside it. Symbolic links are followed on both sides, as
 * `Path.resolve()` follows them, so a link cannot smuggle an outside folder in.
 */
export function pathWithinRun(resolved: string, runFolder: string): string[] | undefined {
  // realpath of the longest existing ancestor: a source folder need not exist yet.
  const real = (p: string): string => {
    const rest: string[] = [];
    for (let at = p; ; at = path.dirname(at)) {
      try {
        return path.join(fs.realpathSync(at), ...rest);
      } catch {
        if (path.dirname(at) === at) return p;
        rest.unshift(path.basename(at));
      }
    }
  };
  const inner = real(resolved);
  const root = real(path.resolve(runFolder));
  const rel = path.relative(root, inner);
  if (rel === '') return [];
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep);
}

/** The folder of a local artifact store (`file:///…`), or undefined for any other store. */
export function localStoreRoot(storeUri: string): string | undefined {
  return storeUri.startsWith('file://') ? storeUri.slice('file://'.length) : undefined;
}

/** Python's `unquote`: malformed `%` sequences are kept as they are rather than refused. */
function unquote(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
