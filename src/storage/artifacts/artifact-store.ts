import type { Readable } from 'node:stream';

export interface ArtifactEntry {
  /** Path relative to the directory that was listed's root (the store root), POSIX separators. */
  path: string;
  isDir: boolean;
  /** Size in bytes; undefined for directories. */
  size?: number | undefined;
}

/**
 * The artifact store port. Paths are relative, POSIX-style, and may never leave the store:
 * implementations refuse `..`, absolute paths and (where the medium has them) symlinks.
 * Local folders implement it now; S3 and Azure Blob implement the same contract later.
 */
export interface ArtifactStore {
  readonly uri: string;
  /** Writes atomically: readers see the old content or the whole new content, never a part. */
  put(path: string, data: Buffer | string | Readable | AsyncIterable<Uint8Array>): Promise<{ size: number }>;
  /** Streams the content; throws RESOURCE_DOES_NOT_EXIST when absent. */
  get(path: string): Promise<Readable>;
  read(path: string): Promise<Buffer>;
  exists(path: string): Promise<boolean>;
  /** Direct children of a directory ('' for the root); empty when the directory does not exist. */
  list(dir: string): Promise<ArtifactEntry[]>;
  /** Removes a file or a whole directory; absent paths are not an error. */
  delete(path: string): Promise<void>;
}
