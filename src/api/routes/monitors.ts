import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FluxError } from '../../core/index.js';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { parseModelProfile } from '../../monitoring/index.js';
import { profileFromCsv } from '../../workflows/index.js';
import { created, Empty, ok } from '../schemas.js';

const Name = Type.Object({ name: Type.String() });
const ColumnOptions = Type.Object(
  {
    method: Type.Optional(Type.Union([Type.Literal('ks'), Type.Literal('wasserstein'), Type.Literal('psi'), Type.Literal('chisquare'), Type.Literal('jensenshannon')])),
    threshold: Type.Optional(Type.Number({ minimum: 0, description: 'greater than 0: a p-value for ks and chisquare (drift when p < it), a distance otherwise (drift when ≥ it)' })),
  },
  { additionalProperties: false },
);
const MonitorFields = {
  endpoint: Type.String({ description: 'the endpoint whose logged traffic is checked' }),
  deployment: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "only this deployment's traffic" })),
  reference: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'compare with this version (name/version); default: the version that answered most of the window' })),
  window: Type.Optional(Type.String({ description: 'how far back a check looks (default 1h)' })),
  every: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'check on this interval (at least 10s); null: on demand only (default)' })),
  minRows: Type.Optional(Type.Integer({ minimum: 1, description: 'fewest rows a window needs (default 100)' })),
  maxRows: Type.Optional(Type.Integer({ minimum: 100, description: 'most rows a window reads, newest first (default 50000)' })),
  driftShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'share of drifted columns, above 0, at which the dataset drifts (default 0.5)' })),
  columns: Type.Optional(Type.Record(Type.String(), ColumnOptions, { description: 'per-column method and threshold' })),
  ignore: Type.Optional(Type.Array(Type.String(), { description: 'columns left out' })),
  enabled: Type.Optional(Type.Boolean()),
};
const MonitorIn = Type.Object({ name: Type.String(), ...MonitorFields }, { additionalProperties: false });
const MonitorPatch = Type.Partial(Type.Object(MonitorFields), { additionalProperties: false });

export const Monitor = Type.Object({
  name: Type.String(),
  endpoint: Type.String(),
  deployment: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([Type.String(), Type.Null()]),
  windowMs: Type.Integer(),
  everyMs: Type.Union([Type.Integer(), Type.Null()]),
  minRows: Type.Integer(),
  maxRows: Type.Integer(),
  driftShare: Type.Number(),
  columns: Type.Record(Type.String(), ColumnOptions),
  ignore: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  nextRunAt: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

export const MonitorResult = Type.Object({
  seq: Type.Integer(),
  monitor: Type.String(),
  endpoint: Type.String(),
  time: Type.Integer(),
  windowStart: Type.Integer(),
  windowEnd: Type.Integer(),
  rows: Type.Integer(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('drift'), Type.Literal('insufficient_data'), Type.Literal('no_reference'), Type.Literal('error')]),
  message: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([Type.Object({ model: Type.String(), version: Type.String(), source: Type.String() }), Type.Null()]),
  versions: Type.Record(Type.String(), Type.Integer()),
  columns: Type.Record(Type.String(), Type.Unknown({ description: 'method, statistic, pValue?, threshold, drifted, psi, psiBand, liveCount, liveMissing, histogram (labels, reference, live: the counts per bin of the PSI)' })),
  dataset: Type.Union([Type.Unknown({ description: 'drifted, share, driftedShare, driftedColumns, columnCount' }), Type.Null()]),
  predictions: Type.Object({ class: Type.Optional(Type.Unknown()), score: Type.Optional(Type.Unknown()) }),
  predictionDrift: Type.Boolean(),
  performance: Type.Union([Type.Unknown({ description: 'estimated (CBPE), calibrated, realised (rows with labels)' }), Type.Null()]),
});

/**
 * Drift monitors: settings, checks on demand, their results as a time series, and reference
 * profiles stored for a model version from a dataset the user names (a CSV body).
 */
export const monitorRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const mon = platform.monitors;
  const tags = ['monitoring'];
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 256 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.post('/monitors', { config: { auth: 'write' }, schema: { tags, summary: 'Create a drift monitor on an endpoint', body: MonitorIn, response: created(Monitor) } }, async (req, reply) => {
    const m = await mon.create(req.body, callerOf(req));
    void reply.status(201);
    return m;
  });
  app.get('/monitors', { config: { auth: 'read' }, schema: { tags, summary: 'List monitors', response: ok(Type.Object({ monitors: Type.Array(Monitor) })) } }, async () => ({ monitors: await mon.list() }));
  app.get('/monitors/:name', { config: { auth: 'read' }, schema: { tags, summary: 'A monitor', params: Name, response: ok(Monitor) } }, async (req) => mon.get(req.params.name));
  app.patch('/monitors/:name', { config: { auth: 'write' }, schema: { tags, summary: "Change a monitor's settings", params: Name, body: MonitorPatch, response: ok(Monitor) } }, async (req) =>
    mon.update(req.params.name, req.body, callerOf(req)),
  );
  app.delete('/monitors/:name', { config: { auth: 'write' }, schema: { tags, summary: 'Delete a monitor and its results', params: Name, response: ok(Empty) } }, async (req) => {
    await mon.delete(req.params.name, callerOf(req));
    return {};
  });
  app.post('/monitors/:name/run', { config: { auth: 'write' }, schema: { tags, summary: 'Check the monitor now and record the result', params: Name, response: ok(MonitorResult) } }, async (req) =>
    mon.run(req.params.name, callerOf(req)),
  );
  app.get(
    '/monitors/:name/results',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: "A monitor's results, newest first (its time series)",
        params: Name,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), before: Type.Optional(Type.Integer({ minimum: 1 })), since: Type.Optional(Type.String()) }),
        response: ok(Type.Object({ results: Type.Array(MonitorResult) })),
      },
    },
    async (req) => ({ results: await mon.results(req.params.name, req.query) }),
  );

  app.put(
    '/models/:name/versions/:version/profile',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: "Store a version's reference profile: computed from a CSV body (text/csv; ?target= names the label column), or a profile JSON",
        params: Type.Object({ name: Type.String(), version: Type.String() }),
        querystring: Type.Object({ target: Type.Optional(Type.String()), source: Type.Optional(Type.String({ description: 'the dataset name recorded as the source' })) }),
        body: Type.Union([Type.String({ description: 'text/csv' }), Type.Object({}, { additionalProperties: true, description: 'a profile as GET answers it' })]),
        response: ok(Type.Object({ model: Type.String(), version: Type.String(), source: Type.String(), rows: Type.Integer(), columns: Type.Array(Type.String()) })),
      },
    },
    async (req) => {
      const mv = await platform.registry.getModelVersion(req.params.name, req.params.version);
      const profile =
        typeof req.body === 'string'
          ? await profileFromCsv(platform.registry, mv, req.body, { target: req.query.target, source: req.query.source ?? 'upload' })
          : parseModelProfile(req.body, 'body');
      await mon.putProfile(mv.name, mv.version, profile);
      return { model: mv.name, version: mv.version, source: profile.source, rows: profile.rows, columns: Object.keys(profile.features) };
    },
  );
  app.get(
    '/models/:name/versions/:version/profile',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: "A version's reference profile (stored, or from its model folder)",
        params: Type.Object({ name: Type.String(), version: Type.String() }),
        response: ok(
          Type.Object(
            {
              formatVersion: Type.Literal(1),
              source: Type.String(),
              createdAt: Type.String(),
              rows: Type.Integer(),
              features: Type.Record(Type.String(), Type.Unknown({ description: 'a numeric or categorical column profile' })),
              predictions: Type.Object({ class: Type.Optional(Type.Unknown()), score: Type.Optional(Type.Unknown()) }),
              performance: Type.Optional(Type.Unknown({ description: 'classes, threshold, held-out scores and labels' })),
            },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (req) => {
      const mv = await platform.registry.getModelVersion(req.params.name, req.params.version);
      const found = await mon.profiles.get(mv.name, mv.version);
      if (found === undefined) {
        throw new FluxError('RESOURCE_DOES_NOT_EXIST', `${mv.name}/${mv.version} has no reference profile: store one with fluxops monitors profile ${mv.name}/${mv.version} --data <csv>`);
      }
      return found.profile;
    },
  );
};
