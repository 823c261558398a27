import { FluxError } from '../core/index.js';
import type { ModelFiles } from '../models/index.js';
import type { ModelVersion } from '../registry/index.js';
import { MODEL_ARTIFACT_DIR } from '../workflows/index.js';
import type { Backend } from './context.js';

/**
 * The files of a model version's folder: through the artifact store in process, or as the source
 * run's artifacts over the API (each file fetched once, so a probe for a file does not download
 * it twice).
 */
export function modelFolder(b: Backend, mv: ModelVersion): { files: ModelFiles; folder: string } {
  if (b.platform !== undefined) {
    if (mv.storageLocation === '') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${mv.name} v${mv.version} is stored outside FluxOps`);
    return { files: b.platform.artifacts, folder: mv.storageLocation };
  }
  const folder = /^runs:\/[0-9a-f]{32}\/(.*)$/.exec(mv.source)?.[1] ?? MODEL_ARTIFACT_DIR;
  const fetched = new Map<string, Promise<Buffer>>();
  const read = (path: string): Promise<Buffer> => {
    let p = fetched.get(path);
    if (p === undefined) {
      p = b.tracking.readArtifact(mv.runId, path);
      fetched.set(path, p);
    }
    return p;
  };
  return {
    folder,
    files: {
      read,
      exists: async (path) => {
        try {
          await read(path);
          return true;
        } catch (e) {
          if (e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST') return false;
          throw e;
        }
      },
    },
  };
}
