import { FluxError } from '../../core/index.js';
import { invalidArtifactRoot } from './invalid-artifact-root.js';
import { safeRelativePath } from './safe-path.js';

/**
 * Maps store paths to object keys under a root prefix, for the object-store implementations
 * (S3, Azure Blob), which share the same flat key space with `/` as the directory delimiter.
 * Every path goes through `safeRelativePath`, so the refusals are exactly the local store's.
 */
export class ObjectKeySpace {
  /** The root prefix without leading or trailing slashes; '' for the bucket or container root. */
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix.split('/').filter((s) => s !== '').join('/');
  }

  /** The key of a file; refuses the root, which is not a file. */
  fileKey(rel: string, refuseRoot: () => FluxError): { key: string; segments: string[] } {
    const segments = safeRelativePath(rel);
    if (segments.length === 0) throw refuseRoot();
    return { key: this.join(segments), segments };
  }

  /** The key prefix (ending in '/', or '' at the bucket root) under which a directory's objects live. */
  dirPrefix(rel: string): { prefix: string; segments: string[] } {
    const segments = safeRelativePath(rel);
    const joined = this.join(segments);
    return { prefix: joined === '' ? '' : `${joined}/`, segments };
  }

  /**
   * The store path of a key found by listing under `dirPrefix`, or undefined for a name this store
   * could never have written (other tools may write `..`, backslashes or empty segments into a
   * bucket); such keys are left out rather than handed to callers as paths.
   */
  childPath(parent: string[], listedPrefix: string, key: string): string | undefined {
    const name = key.slice(listedPrefix.length).replace(/\/$/, '');
    if (name === '' || name.includes('/')) return undefined;
    const rel = [...parent, name].join('/');
    try {
      const back = safeRelativePath(rel);
      return back.length === parent.length + 1 && back[back.length - 1] === name ? rel : undefined;
    } catch {
      return undefined;
    }
  }

  private join(segments: string[]): string {
    const rel = segments.join('/');
    if (this.prefix === '') return rel;
    return rel === '' ? this.prefix : `${this.prefix}/${rel}`;
  }
}

/** A root URI's key prefix, checked like any artifact path so a root cannot point above its bucket. */
export function rootPrefix(uri: string, rawPrefix: string): string {
  try {
    return safeRelativePath(rawPrefix.replace(/^\/+/, ''), 'prefix').join('/');
  } catch (e) {
    if (e instanceof FluxError) throw invalidArtifactRoot(uri, e.message);
    throw e;
  }
}
