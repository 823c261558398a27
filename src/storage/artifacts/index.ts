import { FluxError } from '../../core/index.js';
import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore } from './local-store.js';

export type { ArtifactStore, ArtifactEntry } from './artifact-store.js';
export { LocalArtifactStore } from './local-store.js';
export { ArtifactUris } from './artifact-uris.js';
export { safeRelativePath } from './safe-path.js';

/** Picks the artifact store by URI scheme: a path or `file:` now; `s3:` and `azure:` later. */
export function openArtifactStore(uri: string): ArtifactStore {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(uri);
  if (m === null || m[1]?.toLowerCase() === 'file') return new LocalArtifactStore(uri.replace(/^file:(\/\/)?/, ''));
  throw new FluxError('INVALID_PARAMETER_VALUE', `artifact store scheme '${m[1]}:' is not supported yet (use a folder path or file:)`);
}
