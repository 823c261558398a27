export type { ArtifactStore, ArtifactEntry, ArtifactData } from './artifact-store.js';
export { LocalArtifactStore } from './local-store.js';
export { S3ArtifactStore, parseS3Root } from './s3-store.js';
export { AzureBlobArtifactStore, parseAzureRoot } from './azure-store.js';
export { openArtifactStore, uriScheme } from './open-artifact-store.js';
export { ACCEPTED_ROOTS } from './invalid-artifact-root.js';
export { ArtifactUris } from './artifact-uris.js';
export { safeRelativePath } from './safe-path.js';
