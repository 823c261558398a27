import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../../auth/index.js';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { AuditPage, CreatedKey, Empty, KeyList, created, ok } from '../schemas.js';

/**
 * API keys and the audit log: admin only. The first admin key comes from the local CLI on the
 * home (`fluxops keys create NAME --role admin`, or the one the quickstart prints).
 */
export const keyRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const keys = platform.keys;
  const schema = { tags: ['auth'] };
  app.post(
    '/keys',
    {
      config: { auth: 'admin' },
      schema: {
        response: created(CreatedKey),
        ...schema,
        summary: 'Create a key (shown once)',
        body: Type.Object({
          name: Type.String(),
          role: Type.Optional(Type.Union(ROLES.map((r) => Type.Literal(r)))),
          scopes: Type.Optional(Type.Array(Type.String(), { maxItems: 100 })),
          /** A duration from now (`30d`, `12h`) or epoch milliseconds. */
          expires: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
        }),
      },
    },
    async (req, reply) => {
      void reply.status(201);
      const { name, ...opts } = req.body;
      const { key, info } = await keys.create(name, opts, callerOf(req));
      return { key, ...info };
    },
  );
  app.get('/keys', { config: { auth: 'admin' }, schema: { response: ok(KeyList), ...schema, summary: 'List keys (never their secrets)' } }, async () => ({ keys: await keys.list() }));
  app.delete('/keys/:keyId', { config: { auth: 'admin' }, schema: { response: ok(Empty), ...schema, summary: 'Revoke a key', params: Type.Object({ keyId: Type.String() }) } }, async (req) => {
    await keys.revoke(req.params.keyId, callerOf(req));
    return {};
  });
  app.get(
    '/audit',
    {
      config: { auth: 'admin' },
      schema: {
        response: ok(AuditPage),
        ...schema,
        summary: 'State-changing calls, oldest first: time, key, role, route, target, status, request id',
        querystring: Type.Object({
          since: Type.Optional(Type.Integer({ minimum: 0 })),
          after: Type.Optional(Type.Integer({ minimum: 0 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
        }),
      },
    },
    async (req) => {
      const { entries, nextAfter } = await platform.audit.list(req.query);
      return { entries, next_after: nextAfter };
    },
  );
};
