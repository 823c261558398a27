import type { ArtifactStore } from './artifact-store.js';
import { AzureBlobArtifactStore } from './azure-store.js';
import { invalidArtifactRoot } from './invalid-artifact-root.js';
import { LocalArtifactStore } from './local-store.js';
import { S3ArtifactStore } from './s3-store.js';

/** The scheme of a URI, lower-cased; undefined for a plain path (a drive letter is not a scheme). */
export function uriScheme(uri: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
  return scheme === undefined || scheme.length === 1 ? undefined : scheme.toLowerCase();
}

/**
 * Picks the artifact store by the root's scheme, as MLflow picks artifact repositories: a plain
 * path or `file:` is a local folder, `s3:` a bucket, `azure:` and `wasbs:` an Azure container.
 * Opening does no I/O; `verify()` checks the store answers. Credentials come from `env`.
 */
export function openArtifactStore(uri: string, env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  if (uri.trim() === '') throw invalidArtifactRoot(uri, 'it is empty');
  const scheme = uriScheme(uri);
  switch (scheme) {
    case undefined:
      return new LocalArtifactStore(uri);
    case 'file': {
      // file:///abs, file://localhost/abs, file:/abs or file:relative; another host is not this machine.
      let local = uri.slice('file:'.length);
      if (local.startsWith('//')) local = /^\/\/(?:localhost)?(\/.*)$/i.exec(local)?.[1] ?? '';
      if (local === '') throw invalidArtifactRoot(uri, 'a file: root is file:///absolute/path on this machine');
      return new LocalArtifactStore(local);
    }
    case 's3':
      return new S3ArtifactStore(uri, { env });
    case 'azure':
    case 'wasbs':
      return new AzureBlobArtifactStore(uri, { env });
    default:
      throw invalidArtifactRoot(uri, `the scheme '${scheme}:' is not supported`);
  }
}
