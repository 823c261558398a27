import path from 'node:path';

export interface FluxConfig {
  /** Folder holding the embedded store and artifacts. */
  home: string;
  /** `sqlite:<file>` or `postgres://…`. */
  databaseUrl: string;
  /**
   * Root of the artifact store: an absolute folder path, or a URI with a scheme (`s3://…`,
   * `azure://…`, `wasbs://…`) kept as given for the artifact store to validate.
   */
  artifactRoot: string;
}

export interface ConfigInput {
  home?: string | undefined;
  databaseUrl?: string | undefined;
  artifactRoot?: string | undefined;
}

/**
 * Resolves where state lives: flags first, then FLUXOPS_HOME / FLUXOPS_DATABASE_URL /
 * FLUXOPS_ARTIFACT_ROOT, then `./.fluxops` in the working directory.
 */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FluxConfig {
  const home = path.resolve(input.home ?? env.FLUXOPS_HOME ?? '.fluxops');
  const databaseUrl = input.databaseUrl ?? env.FLUXOPS_DATABASE_URL ?? `sqlite:${path.join(home, 'fluxops.db')}`;
  const artifactRootRaw = input.artifactRoot ?? env.FLUXOPS_ARTIFACT_ROOT ?? path.join(home, 'artifacts');
  return { home, databaseUrl, artifactRoot: resolveArtifactRoot(artifactRootRaw) };
}

/**
 * A plain path or `file:` root becomes an absolute folder path; any other URI is kept intact
 * (resolving `s3://bucket/x` as a path would silently make a local folder named `s3:`).
 * A one-letter "scheme" is a Windows drive letter, so a path.
 */
export function resolveArtifactRoot(raw: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
  if (scheme !== undefined && scheme.length > 1 && scheme.toLowerCase() !== 'file') return raw;
  if (scheme?.toLowerCase() === 'file') {
    const rest = raw.slice('file:'.length);
    // file://host/… names another machine: left for the artifact store to refuse with its sentence.
    if (rest.startsWith('//') && !/^\/\/(localhost)?\//i.test(rest)) return raw;
    return path.resolve(rest.replace(/^\/\/(localhost)?(?=\/)/i, ''));
  }
  return path.resolve(raw);
}
