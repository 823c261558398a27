import type { Readable } from 'node:stream';

export interface ArtifactEntry {
  /** Path relative to the directory that was listed's root (the store root), POSIX separators. */
  path: string;
  isDir: boolean;
  /** Size in bytes; undefined for directories. */
  size?: number | undefined;
}

/** What `put` accepts: whole values, or streams that are copied through without being buffered whole. */
export type ArtifactData = Buffer | string | Readable | AsyncIterable<Uint8Array>;

/**
 * The artifact store port. Paths are relative, POSIX-style, and may never leave the store:
 * implementations refuse `..`, absolute paths, backslashes and control characters (through
 * `safeRelativePath`) and, where the medium has them, symlinks. A local folder, S3 and Azure
 * Blob implement it; `test/conformance/artifact-store-conformance.ts` is the contract.
 *
 * Directories are implied by the paths of the files under them, as in object stores: a directory
 * exists while it holds a file. The local store also refuses a file where a directory is (and the
 * reverse); object stores do not check that, since it would cost a request per path segment.
 */
export interface ArtifactStore {
  /** The root this store was opened on, as a URI (`file:///…`, `s3://bucket/prefix`, `azure://…`). */
  readonly uri: string;
  /**
   * Checks that the store can be used (the bucket or container exists and answers), so a server
   * fails at start with a sentence naming it instead of at the first upload.
   */
  verify(): Promise<void>;
  /** Writes atomically: readers see the old content or the whole new content, never a part. */
  put(path: string, data: ArtifactData): Promise<{ size: number }>;
  /** Streams the content; throws RESOURCE_DOES_NOT_EXIST when absent. */
  get(path: string): Promise<Readable>;
  read(path: string): Promise<Buffer>;
  /** True for a file, and for a directory that holds files. */
  exists(path: string): Promise<boolean>;
  /** Direct children of a directory ('' for the root), sorted; empty when the directory does not exist. */
  list(dir: string): Promise<ArtifactEntry[]>;
  /** Removes a file or a whole directory; absent paths are not an error. */
  delete(path: string): Promise<void>;
}
