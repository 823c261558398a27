import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../../http/index.js';

/** API key management over HTTP; it needs a valid key itself (the first key comes from the CLI). */
export const keyRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const keys = platform.keys;
  const schema = { tags: ['auth'], security: [{ bearer: [] }] };
  app.addHook('preHandler', async (req) => {
    if (req.url.startsWith('/api/v1/keys')) await keys.verifyHeader(req.headers.authorization);
  });
  app.post('/keys', { schema: { ...schema, body: Type.Object({ name: Type.String() }) } }, async (req, reply) => {
    void reply.status(201);
    const { key, info } = await keys.create(req.body.name);
    return { key, ...info };
  });
  app.get('/keys', { schema }, async () => ({ keys: await keys.list() }));
  app.delete('/keys/:keyId', { schema: { ...schema, params: Type.Object({ keyId: Type.String() }) } }, async (req) => {
    await keys.revoke(req.params.keyId);
    return {};
  });
};
