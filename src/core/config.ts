import path from 'node:path';

export interface FluxConfig {
  /** Folder holding the embedded store and artifacts. */
  home: string;
  /** `sqlite:<file>` or `postgres://…`. */
  databaseUrl: string;
  /** Root of the local artifact store (`file:` scheme). */
  artifactRoot: string;
  /**
   * SQLite: commit concurrent single writes (metric, param, tag, batch) together, one fsync per
   * group. On unless FLUXOPS_GROUP_COMMIT is `off`/`0`/`false` (kept for measuring the difference).
   */
  groupCommit: boolean;
}

export interface ConfigInput {
  home?: string | undefined;
  databaseUrl?: string | undefined;
  artifactRoot?: string | undefined;
  groupCommit?: boolean | undefined;
}

/**
 * Resolves where state lives: flags first, then FLUXOPS_HOME / FLUXOPS_DATABASE_URL /
 * FLUXOPS_ARTIFACT_ROOT, then `./.fluxops` in the working directory.
 */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FluxConfig {
  const home = path.resolve(input.home ?? env.FLUXOPS_HOME ?? '.fluxops');
  const databaseUrl = input.databaseUrl ?? env.FLUXOPS_DATABASE_URL ?? `sqlite:${path.join(home, 'fluxops.db')}`;
  const artifactRootRaw = input.artifactRoot ?? env.FLUXOPS_ARTIFACT_ROOT ?? path.join(home, 'artifacts');
  const artifactRoot = path.resolve(artifactRootRaw.replace(/^file:(\/\/)?/, ''));
  const groupCommit = input.groupCommit ?? !/^(off|0|false|no)$/i.test(env.FLUXOPS_GROUP_COMMIT ?? '');
  return { home, databaseUrl, artifactRoot, groupCommit };
}
