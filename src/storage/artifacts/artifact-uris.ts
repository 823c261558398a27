import type { ArtifactsMode } from '../../core/index.js';
import { safeRelativePath } from './safe-path.js';

/**
 * How clients are told where artifacts are, by artifacts mode (MLflow's two server set-ups):
 * `proxied` hands out `mlflow-artifacts:/<path>` URIs, read and written through this server's
 * artifact API (`mlflow server --serve-artifacts`); `direct` hands out the store's own URI
 * (`file:///root/<path>`, `s3://bucket/prefix/<path>`, …), which clients write to themselves
 * (`mlflow server --no-serve-artifacts --default-artifact-root …`). Either kind of URI of a
 * location inside the store maps back to the same store path, so switching modes loses nothing.
 */
export class ArtifactUris {
  private readonly root: string;

  constructor(
    storeUri: string,
    readonly mode: ArtifactsMode,
  ) {
    this.root = storeUri.replace(/\/+$/, '');
  }

  /** The URI clients get for a store path ('' is the store root). */
  uriOf(storePath: string): string {
    const rel = storePath.replace(/^\/+|\/+$/g, '');
    if (this.mode === 'direct') return rel === '' ? this.root : `${this.root}/${rel}`;
    return `mlflow-artifacts:/${rel}`;
  }

  /**
   * The store path a URI names, when the location is inside this server's store: an
   * `mlflow-artifacts:/…` URI of no other server, or the store's own URI (`file:` also as
   * `file:/path` and percent-encoded, as Python's file URIs are). Undefined for anything else,
   * and for a path that would climb out with `..`.
   */
  pathOf(uri: string): string | undefined {
    const proxied = /^mlflow-artifacts:(?:\/\/([^/]*))?(\/.*)?$/.exec(uri);
    if (proxied !== null) return proxied[1] !== undefined && proxied[1] !== '' ? undefined : relative((proxied[2] ?? '').replace(/^\/+/, ''));
    for (const root of this.rootSpellings()) {
      if (uri === root) return '';
      if (uri.startsWith(`${root}/`)) return relative(uri.slice(root.length + 1));
    }
    return undefined;
  }

  /** A location re-written in this mode's scheme when it is inside the store; others as they are. */
  present(uri: string): string {
    const p = this.pathOf(uri);
    return p === undefined ? uri : this.uriOf(p);
  }

  /** `file:///a` is also written `file:/a`, and Python percent-encodes what the path holds. */
  private rootSpellings(): string[] {
    if (!this.root.startsWith('file://')) return [this.root];
    const abs = this.root.slice('file://'.length);
    const encoded = `file://${abs.split('/').map(encodeURIComponent).join('/')}`;
    return [...new Set([this.root, `file:${abs}`, encoded])];
  }
}

function relative(text: string): string | undefined {
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // not percent-encoded: taken as written
  }
  try {
    return safeRelativePath(decoded.replace(/\/+$/, '')).join('/');
  } catch {
    return undefined;
  }
}
