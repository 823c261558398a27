import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { created, Empty, Lineage, ModelVersion, ok, Page, RegisteredModel } from '../schemas.js';

const KV = Type.Object({ key: Type.String(), value: Type.String() });
const Name = Type.Object({ name: Type.String() });
const NameVersion = Type.Object({ name: Type.String(), version: Type.String() });

/** Native registry API: models, versions, aliases, stages, lineage. */
export const registryRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const r = platform.registry;
  const tags = ['registry'];

  app.post('/models', { config: { auth: 'write' }, schema: { response: created(RegisteredModel), tags, body: Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), tags: Type.Optional(Type.Array(KV)) }) } }, async (req, reply) => {
    void reply.status(201);
    return r.createRegisteredModel(req.body, callerOf(req));
  });
  app.get(
    '/models',
    { config: { auth: 'read' }, schema: { response: ok(Page(RegisteredModel)), tags, querystring: Type.Object({ nameLike: Type.Optional(Type.String()), maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), pageToken: Type.Optional(Type.String()) }) } },
    async (req) => {
      return r.searchRegisteredModels(req.query);
    },
  );
  app.get('/models/:name', { config: { auth: 'read' }, schema: { response: ok(RegisteredModel), tags, params: Name } }, async (req) => r.getRegisteredModel(req.params.name));
  app.patch('/models/:name', { config: { auth: 'write' }, schema: { response: ok(RegisteredModel), tags, params: Name, body: Type.Object({ description: Type.Optional(Type.String()), newName: Type.Optional(Type.String()) }) } }, async (req) => {
    let name = req.params.name;
    if (req.body.newName !== undefined) name = (await r.renameRegisteredModel(name, req.body.newName)).name;
    if (req.body.description !== undefined) await r.updateRegisteredModel(name, req.body.description);
    return r.getRegisteredModel(name);
  });
  app.delete('/models/:name', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: Name } }, async (req) => {
    await r.deleteRegisteredModel(req.params.name, callerOf(req));
    return {};
  });
  app.put('/models/:name/tags', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: Name, body: KV } }, async (req) => {
    await r.setRegisteredModelTag(req.params.name, req.body.key, req.body.value);
    return {};
  });

  app.post(
    '/models/:name/versions',
    { config: { auth: 'write' },
      schema: {
        response: created(ModelVersion),
        tags,
        summary: 'Register a new version from runs:/<run_id>/<path> or mlflow-artifacts:/<path>',
        params: Name,
        body: Type.Object({ source: Type.String(), runId: Type.Optional(Type.String()), description: Type.Optional(Type.String()), tags: Type.Optional(Type.Array(KV)) }),
      },
    },
    async (req, reply) => {
      void reply.status(201);
      return r.registerModel({ ...req.body, name: req.params.name, ...(req.principal.name !== null ? { userId: req.principal.name } : {}) }, callerOf(req));
    },
  );
  app.get(
    '/models/:name/versions',
    { config: { auth: 'read' }, schema: { response: ok(Page(ModelVersion)), tags, params: Name, querystring: Type.Object({ maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), pageToken: Type.Optional(Type.String()) }) } },
    async (req) => {
      await r.getRegisteredModel(req.params.name);
      return r.searchModelVersions({ name: req.params.name, ...req.query });
    },
  );
  app.get('/models/:name/versions/:version', { config: { auth: 'read' }, schema: { response: ok(ModelVersion), tags, params: NameVersion } }, async (req) => r.getModelVersion(req.params.name, req.params.version));
  app.patch('/models/:name/versions/:version', { config: { auth: 'write' }, schema: { response: ok(ModelVersion), tags, params: NameVersion, body: Type.Object({ description: Type.String() }) } }, async (req) =>
    r.updateModelVersion(req.params.name, req.params.version, req.body.description),
  );
  app.delete('/models/:name/versions/:version', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: NameVersion } }, async (req) => {
    await r.deleteModelVersion(req.params.name, req.params.version, callerOf(req));
    return {};
  });
  app.put('/models/:name/versions/:version/tags', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, params: NameVersion, body: KV } }, async (req) => {
    await r.setModelVersionTag(req.params.name, req.params.version, req.body.key, req.body.value);
    return {};
  });
  app.post(
    '/models/:name/versions/:version/stage',
    { config: { auth: { permission: 'write', resource: (req) => ({ model: (req.params as { name: string }).name, alias: (req.body as { stage?: string } | undefined)?.stage }) } }, schema: { response: ok(ModelVersion), tags, params: NameVersion, body: Type.Object({ stage: Type.String(), archiveExistingVersions: Type.Optional(Type.Boolean()) }) } },
    async (req) => r.transitionStage(req.params.name, req.params.version, req.body.stage, req.body.archiveExistingVersions ?? false),
  );
  app.get('/models/:name/versions/:version/lineage', { config: { auth: 'read' }, schema: { response: ok(Lineage), tags, summary: 'From a version back to its run, params, metrics and data', params: NameVersion } }, async (req) =>
    r.lineage(req.params.name, req.params.version),
  );

  app.put(
    '/models/:name/aliases/:alias',
    { config: { auth: { permission: 'write', resource: (req) => ({ model: (req.params as { name: string }).name, alias: (req.params as { alias: string }).alias }) } }, schema: { response: ok(ModelVersion), tags, summary: 'Point an alias at a version (the server hot-swaps a served alias)', params: Type.Object({ name: Type.String(), alias: Type.String() }), body: Type.Object({ version: Type.String() }) } },
    async (req) => {
      // A served alias follows through the model.alias.changed event, on this replica and the others.
      return r.setAlias(req.params.name, req.params.alias, req.body.version, callerOf(req));
    },
  );
  app.get('/models/:name/aliases/:alias', { config: { auth: 'read' }, schema: { response: ok(ModelVersion), tags, params: Type.Object({ name: Type.String(), alias: Type.String() }) } }, async (req) =>
    r.getVersionByAlias(req.params.name, req.params.alias),
  );
  app.delete('/models/:name/aliases/:alias', { config: { auth: { permission: 'write', resource: (req) => ({ model: (req.params as { name: string }).name, alias: (req.params as { alias: string }).alias }) } }, schema: { response: ok(Empty), tags, params: Type.Object({ name: Type.String(), alias: Type.String() }) } }, async (req) => {
    await r.deleteAlias(req.params.name, req.params.alias, callerOf(req));
    return {};
  });
};
