import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { WRITES_RUN_IN_PATH, type RouteDeps } from '../../http/index.js';
import { ArtifactList, created, ErrorBody, ok, SavedArtifact } from '../schemas.js';

/**
 * A download is raw bytes, streamed: the serialiser never sees a stream, so this only documents
 * the body (typed as the stream the handler sends).
 */
const Download = Type.Unsafe<Readable>({ description: 'The file, as raw bytes', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } });

/**
 * Run artifacts: PUT streams raw bytes into the artifact store (never buffered whole), GET
 * streams them back, GET on the folder lists. Its own plugin scope accepts any content type.
 */
export const artifactRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const t = platform.tracking;
  const tags = ['tracking'];
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.get(
    '/runs/:runId/artifacts',
    { config: { auth: 'read' }, schema: { response: ok(ArtifactList), tags, summary: 'List a folder of run artifacts', params: Type.Object({ runId: Type.String() }), querystring: Type.Object({ path: Type.Optional(Type.String()) }) } },
    async (req) => ({ files: await t.listArtifacts(req.params.runId, req.query.path ?? '') }),
  );
  app.put(
    '/runs/:runId/artifacts/*',
    { config: { auth: WRITES_RUN_IN_PATH }, schema: { response: created(SavedArtifact), tags, summary: 'Upload one artifact file (raw bytes)', params: Type.Object({ runId: Type.String(), '*': Type.String() }) } },
    async (req, reply) => {
      const body = req.body as Readable | undefined;
      const saved = await t.logArtifact(req.params.runId, req.params['*'], body ?? Buffer.alloc(0));
      void reply.status(201);
      return saved;
    },
  );
  app.get(
    '/runs/:runId/artifacts/*',
    { config: { auth: 'read' }, schema: { response: { 200: Download, '4xx': ErrorBody, '5xx': ErrorBody }, tags, summary: 'Download one artifact file', params: Type.Object({ runId: Type.String(), '*': Type.String() }) } },
    async (req, reply) => {
      const stream = await t.openArtifact(req.params.runId, req.params['*']);
      void reply.header('content-type', 'application/octet-stream');
      return reply.send(stream);
    },
  );
};

