import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../../http/index.js';
import { csvLines, jsonLines } from '../../monitoring/index.js';
import { ErrorBody, ok } from '../schemas.js';

const Export = Type.Unsafe<Readable>({
  description: 'The window, streamed: JSON Lines (one request per line) or CSV (one predicted row per line)',
  content: { 'application/x-ndjson': { schema: Type.String() }, 'text/csv': { schema: Type.String() } },
});

const Name = Type.Object({ name: Type.String() });

export const Inference = Type.Object({
  seq: Type.Integer({ description: 'write order; page with before=' }),
  endpoint: Type.String(),
  deployment: Type.String(),
  requestId: Type.String({ description: 'labels are attached by it' }),
  time: Type.Integer({ description: 'when it was answered, ms since the epoch' }),
  model: Type.Union([Type.String(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer(),
  latencyMs: Type.Number(),
  rows: Type.Integer(),
  inputs: Type.Unknown({ description: 'the native body: {inputs: [records]} or {columns, data}' }),
  outputs: Type.Union([Type.Unknown({ description: '{predictions, probabilities?, classes?}' }), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});

const Window = {
  deployment: Type.Optional(Type.String()),
  since: Type.Optional(Type.String({ description: 'an ISO time, ms since the epoch, or a duration back from now (15m, 2h, 7d)' })),
  until: Type.Optional(Type.String({ description: 'as since' })),
};

const LabelsIn = Type.Object({
  labels: Type.Array(
    Type.Object({ request_id: Type.String(), row: Type.Optional(Type.Integer({ minimum: 0 })), label: Type.Union([Type.String(), Type.Number()]) }, { additionalProperties: false }),
    { description: 'true values by request id (and row, 0 by default)' },
  ),
});

/**
 * The inference table of an endpoint: the logged requests (newest first, paged), an export of a
 * window as JSON Lines or CSV (streamed, a page of the store at a time), and labels attached by
 * request id as JSON or as a CSV upload (`request_id,label[,row]`).
 */
export const inferenceRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const inf = platform.inferences;
  const tags = ['monitoring'];
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 32 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.get(
    '/endpoints/:name/inferences',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: "An endpoint's logged requests, newest first",
        params: Name,
        querystring: Type.Object({ ...Window, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), before: Type.Optional(Type.Integer({ minimum: 1, description: 'the next page: the `next` of the previous answer' })) }),
        response: ok(Type.Object({ inferences: Type.Array(Inference), next: Type.Union([Type.Integer(), Type.Null()]) })),
      },
    },
    async (req) => inf.list({ endpoint: req.params.name, ...req.query }),
  );

  app.get(
    '/endpoints/:name/inferences/export',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'A window of logged requests, oldest first, streamed as JSON Lines (one request a line) or CSV (one predicted row a line)',
        params: Name,
        querystring: Type.Object({ ...Window, format: Type.Optional(Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' })) }),
        response: { 200: Export, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (req, reply) => {
      const records = inf.export({ endpoint: req.params.name, ...req.query });
      // The first page is read before answering, so a bad window is a 400 rather than a cut stream.
      const first = await records.next();
      async function* all() {
        if (first.done !== true) yield first.value;
        yield* records;
      }
      const csv = req.query.format === 'csv';
      void reply.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      return reply.send(Readable.from(csv ? csvLines(all()) : jsonLines(all())));
    },
  );

  app.post(
    '/endpoints/:name/labels',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: 'Attach true values to logged requests by request id (JSON, or text/csv with request_id,label[,row])',
        params: Name,
        body: Type.Union([LabelsIn, Type.String({ description: 'text/csv' })]),
        response: ok(Type.Object({ written: Type.Integer(), matched: Type.Integer({ description: 'labels naming a request that is logged' }) })),
      },
    },
    async (req) => inf.putLabels(req.params.name, typeof req.body === 'string' ? req.body : req.body.labels),
  );
};
