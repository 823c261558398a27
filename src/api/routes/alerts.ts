import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { alertView, silenceView } from '../../monitoring/index.js';
import { created, Empty, ok } from '../schemas.js';

const Name = Type.Object({ name: Type.String() });
const Notify = Type.Optional(Type.Object({ email: Type.Optional(Type.Array(Type.String(), { description: 'addresses mailed on firing and resolved (needs FLUXOPS_SMTP_URL)' })) }, { additionalProperties: false }));
const Every = Type.Optional(Type.String({ description: 'how often it is evaluated (default 15s)' }));
const Definition = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('rule'), Type.Literal('slo')]),
  rule: Type.Optional(Type.Unknown({ description: 'name, metric, op, threshold, for, severity, summary?, labels?' })),
  slo: Type.Optional(Type.Unknown({ description: 'name, endpoint, kind (availability or latency), objective, latencyThresholdSeconds?' })),
  notify: Type.Object({ email: Type.Array(Type.String()) }),
  everyMs: Type.Integer(),
  enabled: Type.Boolean(),
  nextRunAt: Type.Integer(),
  owner: Type.Union([Type.String(), Type.Null()], { description: 'the synthetic check that owns it' }),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
const Alert = Type.Object({
  alert: Type.String(),
  rule: Type.String(),
  status: Type.Union([Type.Literal('inactive'), Type.Literal('pending'), Type.Literal('firing')]),
  severity: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  value: Type.Union([Type.Number(), Type.Null()]),
  activeSince: Type.Union([Type.Integer(), Type.Null()]),
  firingSince: Type.Union([Type.Integer(), Type.Null()]),
  resolvedAt: Type.Union([Type.Integer(), Type.Null()]),
  lastEvaluated: Type.Integer(),
  silencedBy: Type.Union([Type.String(), Type.Null()]),
});
const SilenceOut = Type.Object({
  id: Type.String(),
  matchers: Type.Object({ rule: Type.Optional(Type.String()), labels: Type.Optional(Type.Record(Type.String(), Type.String())) }),
  startsAt: Type.String(),
  endsAt: Type.String(),
  comment: Type.String(),
  createdBy: Type.String(),
});
const Check = Type.Object({
  name: Type.String(),
  endpoint: Type.String(),
  body: Type.Unknown(),
  expectStatus: Type.Integer(),
  everyMs: Type.Integer(),
  timeoutMs: Type.Integer(),
  alertAfter: Type.Integer(),
  consecutiveFailures: Type.Integer(),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastMs: Type.Union([Type.Number(), Type.Null()]),
  lastRunAt: Type.Union([Type.Integer(), Type.Null()]),
  runs: Type.Integer(),
  failures: Type.Integer(),
  enabled: Type.Boolean(),
  nextRunAt: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

/** Alert rules, SLOs, the alerts' states, silences and synthetic checks. */
export const alertRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const a = platform.alerts;
  const tags = ['monitoring'];
  app.post(
    '/alerts/rules',
    { config: { auth: 'write' }, schema: { tags, summary: 'Create an alert rule on a platform metric', body: Type.Object({ rule: Type.Unknown(), every: Every, notify: Notify }, { additionalProperties: false }), response: created(Definition) } },
    async (req, reply) => {
      const d = await a.createRule(req.body);
      void reply.status(201);
      return d;
    },
  );
  app.post(
    '/alerts/slos',
    { config: { auth: 'write' }, schema: { tags, summary: 'Create an SLO with multi-window, multi-burn-rate alerts', body: Type.Object({ slo: Type.Unknown(), every: Every, notify: Notify }, { additionalProperties: false }), response: created(Definition) } },
    async (req, reply) => {
      const d = await a.createSlo(req.body);
      void reply.status(201);
      return d;
    },
  );
  app.get('/alerts/rules', { config: { auth: 'read' }, schema: { tags, summary: 'List alert rules and SLOs', response: ok(Type.Object({ rules: Type.Array(Definition) })) } }, async () => ({ rules: await a.listDefinitions() }));
  app.get('/alerts/rules/:name', { config: { auth: 'read' }, schema: { tags, summary: 'An alert rule or SLO', params: Name, response: ok(Definition) } }, async (req) => a.getDefinition(req.params.name));
  app.delete('/alerts/rules/:name', { config: { auth: 'write' }, schema: { tags, summary: 'Delete an alert rule or SLO and its alerts', params: Name, response: ok(Empty) } }, async (req) => {
    await a.deleteDefinition(req.params.name);
    return {};
  });
  app.get(
    '/alerts',
    {
      config: { auth: 'read' },
      schema: { tags, summary: 'Alerts as they stand, firing first', querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('pending'), Type.Literal('inactive')])) }), response: ok(Type.Object({ alerts: Type.Array(Alert) })) },
    },
    async (req) => ({ alerts: (await a.listAlerts(req.query)).map(alertView) }),
  );
  app.post(
    '/alerts/silences',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: 'Mute the notifications of matching alerts for a while',
        body: Type.Object(
          {
            matchers: Type.Object({ rule: Type.Optional(Type.String()), labels: Type.Optional(Type.Record(Type.String(), Type.String())) }, { additionalProperties: false }),
            startsAt: Type.Optional(Type.String({ description: 'ISO time with zone (default now)' })),
            endsAt: Type.Optional(Type.String({ description: 'ISO time with zone' })),
            duration: Type.Optional(Type.String({ description: 'instead of endsAt: 2h, 30m' })),
            comment: Type.String({ minLength: 1 }),
          },
          { additionalProperties: false },
        ),
        response: created(SilenceOut),
      },
    },
    async (req, reply) => {
      const s = await a.createSilence(req.body, callerOf(req).actor ?? 'anonymous');
      void reply.status(201);
      return silenceView(s);
    },
  );
  app.get(
    '/alerts/silences',
    { config: { auth: 'read' }, schema: { tags, summary: 'Silences, newest first', querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }), response: ok(Type.Object({ silences: Type.Array(SilenceOut) })) } },
    async (req) => ({ silences: (await a.listSilences({ active: req.query.active === true })).map(silenceView) }),
  );
  app.delete('/alerts/silences/:id', { config: { auth: 'write' }, schema: { tags, summary: 'End a silence now', params: Type.Object({ id: Type.String() }), response: ok(Empty) } }, async (req) => {
    await a.expireSilence(req.params.id);
    return {};
  });
  app.post(
    '/synthetic-checks',
    {
      config: { auth: 'write' },
      schema: {
        tags,
        summary: 'Send a saved request to an endpoint every N minutes; alert after K failures in a row',
        body: Type.Object(
          {
            name: Type.String(),
            endpoint: Type.String(),
            body: Type.Unknown({ description: 'the predict body sent' }),
            expectStatus: Type.Optional(Type.Integer({ description: 'default 200' })),
            every: Type.Optional(Type.String({ description: 'default 5m' })),
            timeout: Type.Optional(Type.String({ description: 'default 10s' })),
            alertAfter: Type.Optional(Type.Integer({ minimum: 1, description: 'consecutive failures that fire its alert (default 3)' })),
            notify: Notify,
          },
          { additionalProperties: false },
        ),
        response: created(Check),
      },
    },
    async (req, reply) => {
      const c = await a.createCheck(req.body);
      void reply.status(201);
      return c;
    },
  );
  app.get('/synthetic-checks', { config: { auth: 'read' }, schema: { tags, summary: 'Synthetic checks and how they last went', response: ok(Type.Object({ checks: Type.Array(Check) })) } }, async () => ({ checks: await a.listChecks() }));
  app.delete('/synthetic-checks/:name', { config: { auth: 'write' }, schema: { tags, summary: 'Delete a synthetic check and its alert', params: Name, response: ok(Empty) } }, async (req) => {
    await a.deleteCheck(req.params.name);
    return {};
  });
};
