import { FluxError } from '../../core/index.js';

/** The root forms `openArtifactStore` accepts, as printed in its refusals. */
export const ACCEPTED_ROOTS =
  'a folder path, file:///path, s3://bucket[/prefix], azure://container[/prefix] or wasbs://container@account.blob.core.windows.net[/prefix]';

/** The one refusal for an artifact root that cannot be opened: one sentence naming the root and the accepted forms. */
export function invalidArtifactRoot(uri: string, why: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `artifact root '${redactRoot(uri)}' is not valid (${why}); use ${ACCEPTED_ROOTS}`, {
    field: 'artifact_root',
  });
}

/** Hides a SAS token or password someone put into the URI, so a refusal never prints a secret. */
export function redactRoot(uri: string): string {
  return uri.replace(/\?.*$/, '?…').replace(/\/\/([^/@:]*):[^@/]*@/, '//$1:***@').slice(0, 300);
}
