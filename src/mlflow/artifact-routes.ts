import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { FluxError } from '../core/index.js';
import { safeRelativePath } from '../storage/artifacts/index.js';
import { byPath, fileInfoJson } from './convert.js';
import type { MlflowRouteDeps } from './index.js';
import { checkRunId } from './mlflow-fields.js';
import { mlflowErrorHandler } from './mlflow-router.js';
import type { RouteAuth } from '../http/index.js';

/** Writes under `<experiment>/<run>/artifacts/…` are writes to that run (a run-scoped key may make them for its run). */
const ARTIFACT_RUN_WRITE: RouteAuth = {
  permission: 'write',
  from: 'url',
  scopedOnly: true,
  resource: (req) => ({ run: /^[^/]+\/([0-9a-f]{32})\/artifacts(\/|$)/.exec((req.params as Record<string, string | undefined>)['*'] ?? '')?.[1] }),
};

/**
 * MLflow's proxied artifact API (`mlflow-artifacts:` URIs), under `/api/2.0/mlflow-artifacts`:
 * `PUT /artifacts/<path>` streams the raw body into the artifact store, `GET /artifacts/<path>`
 * streams a file back, `GET /artifacts?path=<dir>` lists a folder with paths relative to it, and
 * `DELETE /artifacts/<path>` removes. Paths are `<experiment>/<run>/artifacts/…`, the layout of
 * runs' artifact URIs. Reads may name any path inside the store, as MLflow's do; writes and
 * deletes must fall inside an existing, active run's artifact folder. The store itself refuses
 * `..`, absolute paths, backslashes, control characters and symlinks.
 */
export const mlflowArtifactRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const t = platform.tracking;
  const store = platform.artifacts;
  const schema = (summary: string, description: string) => ({ hide: hidden, tags: ['mlflow'], summary, description });
  app.setErrorHandler(mlflowErrorHandler);
  // Uploads are raw bytes of any type: hand the request stream over unread, so nothing is
  // buffered and the body limit of JSON routes does not apply to model files.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.get('/artifacts', { config: { auth: 'read' }, schema: schema('List an artifact folder', 'Query: path (a folder such as 1/<run_id>/artifacts). Returns {files [{path, is_dir, file_size}]}, paths relative to the folder.') }, async (req) => {
    const query = req.query as Record<string, unknown>;
    const raw = Array.isArray(query.path) ? (query.path[0] as unknown) : query.path;
    if (raw !== undefined && typeof raw !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'path must be a string');
    const dir = safeRelativePath(raw ?? '').join('/');
    const entries = await store.list(dir);
    return entries.length > 0 ? { files: byPath(entries).map((e) => fileInfoJson(e, dir)) } : {};
  });

  app.get('/artifacts/*', { config: { auth: 'read' }, schema: schema('Download an artifact', 'Streams the file at <path>.') }, async (req, reply) => {
    const path = safeRelativePath(wildcard(req)).join('/');
    if (path === '') throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file');
    const stream = await store.get(path);
    void reply.header('content-type', 'application/octet-stream');
    return reply.send(stream);
  });

  app.put('/artifacts/*', { config: { auth: ARTIFACT_RUN_WRITE }, schema: schema('Upload an artifact', "Raw body, streamed into <experiment>/<run>/artifacts/… of an existing run. Returns {}.") }, async (req) => {
    const target = await writablePath(wildcard(req));
    const body = (req.body as Readable | undefined) ?? Buffer.alloc(0);
    if ('modelId' in target) await platform.loggedModels.logArtifact(target.modelId, target.rest, body);
    else await t.logArtifact(target.runId, target.rest, body);
    return {};
  });

  app.delete('/artifacts/*', { config: { auth: ARTIFACT_RUN_WRITE }, schema: schema('Delete an artifact', 'Removes the file or folder at <path> inside a run folder. Returns {}.') }, async (req) => {
    const { runId, rest } = await runPath(wildcard(req));
    await t.deleteArtifact(runId, rest);
    return {};
  });

  // Multipart uploads and anything else MLflow's artifact service has: 501, which the client does not retry.
  app.setNotFoundHandler((req, reply) => {
    void reply.status(501).send({ error_code: 'NOT_IMPLEMENTED', message: `FluxOps does not implement ${req.method} ${req.url.split('?')[0]}` });
  });

  /**
   * Where an upload may go: a run's artifact folder, or (MLflow 3) a logged model's folder
   * `<experiment>/models/<model_id>/artifacts/…` of an existing model of that experiment.
   */
  async function writablePath(raw: string): Promise<{ runId: string; rest: string } | { modelId: string; rest: string }> {
    const segments = safeRelativePath(raw);
    if (segments[1] !== 'models' || segments[2] === undefined) return runPath(raw);
    const model = await platform.loggedModels.get(segments[2]);
    const root = safeRelativePath(platform.loggedModels.artifactRoot(model));
    const inside = model.experimentId === segments[0] && root.length < segments.length && root.every((x, i) => segments[i] === x);
    if (!inside) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact path '${raw}' is not inside the folder of logged model ${model.modelId} (${root.join('/')}/)`);
    return { modelId: model.modelId, rest: segments.slice(root.length).join('/') };
  }

  /**
   * Splits `<experiment>/<run>/…` and checks that the run exists, belongs to that experiment, and
   * that the path lies inside its artifact folder; returns the path relative to that folder.
   */
  async function runPath(raw: string): Promise<{ runId: string; rest: string }> {
    const segments = safeRelativePath(raw);
    const [experimentId, runSegment] = segments;
    if (experimentId === undefined || runSegment === undefined) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `artifact path '${raw}' must start with <experiment_id>/<run_id>/ of an existing run`);
    }
    const run = await t.getRun(checkRunId(runSegment));
    if (run.info.experimentId !== experimentId) {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runSegment} not found in experiment ${experimentId}`);
    }
    const root = safeRelativePath(t.runArtifactRoot(run));
    const inside = root.length < segments.length && root.every((s, i) => segments[i] === s);
    if (!inside) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact path '${raw}' is not inside the artifact folder of run ${run.info.runId} (${root.join('/')}/)`);
    return { runId: run.info.runId, rest: segments.slice(root.length).join('/') };
  }
};

function wildcard(req: FastifyRequest): string {
  return (req.params as Record<string, string | undefined>)['*'] ?? '';
}
