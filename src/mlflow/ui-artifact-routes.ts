import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { FluxError } from '../core/index.js';
import type { MlflowRouteDeps } from './index.js';
import { MlflowFields } from './mlflow-fields.js';
import { missing, mlflowArtifactPath } from './mlflow-refusals.js';
import { mlflowErrorHandler } from './mlflow-router.js';

/**
 * The two file downloads MLflow's web UI makes, at the server root as MLflow serves them:
 * `GET /get-artifact?run_id=&path=` (a file of a run's artifacts) and
 * `GET /model-versions/get-artifact?name=&version=&path=` (a file of a registered version's
 * folder). The path is checked before anything is looked up, and a path that leaves its folder is
 * 400 `Invalid path`, as MLflow answers. Files are sent as attachments, never rendered inline.
 */
export const mlflowUiArtifactRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const t = platform.tracking;
  const r = platform.registry;
  const store = platform.artifacts;
  const schema = (summary: string, description: string) => ({ hide: hidden, tags: ['mlflow'], summary, description });
  app.setErrorHandler(mlflowErrorHandler);

  app.get('/get-artifact', { config: { auth: 'read' }, schema: schema('Download a run artifact (MLflow UI)', 'Query: run_id (or run_uuid), path. Streams the file as an attachment.') }, async (req, reply) => {
    const f = MlflowFields.of(req);
    const rel = requiredPath(f);
    const run = await t.getRun(f.runId());
    if (rel.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'path must name a file', { field: 'path' });
    return sendFile(reply, await t.openArtifact(run.info.runId, rel.join('/')), rel);
  });

  app.get(
    '/model-versions/get-artifact',
    { config: { auth: 'read' }, schema: schema('Download a model version file (MLflow UI)', "Query: name, version, path (inside the version's folder). Streams the file as an attachment.") },
    async (req, reply) => {
      const f = MlflowFields.of(req);
      const rel = requiredPath(f);
      const name = f.requiredString('name');
      const version = f.idString('version');
      if (version === undefined) throw missing('version');
      const uri = await r.getDownloadUri(name, version);
      const folder = platform.artifactUris.pathOf(uri);
      if (folder === undefined) {
        throw new FluxError('RESOURCE_DOES_NOT_EXIST', `the files of model ${name} version ${version} are not held by this server (${uri})`);
      }
      if (rel.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'path must name a file', { field: 'path' });
      return sendFile(reply, await store.get([folder, ...rel].filter((s) => s !== '').join('/')), rel);
    },
  );
};

function requiredPath(f: MlflowFields): string[] {
  const path = f.string('path');
  if (path === undefined) throw missing('path');
  return mlflowArtifactPath(path);
}

function encodeRfc5987(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A download as an attachment with a type browsers do not sniff, so a file is never rendered on this origin. */
function sendFile(reply: FastifyReply, stream: Readable, segments: string[]): FastifyReply {
  const filename = segments.at(-1) ?? 'artifact';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  void reply
    .header('content-type', 'application/octet-stream')
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(filename)}`);
  return reply.send(stream);
}
