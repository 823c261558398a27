import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { DELIVERY_STATES, WEBHOOK_FORMATS } from '../../webhooks/index.js';
import { CreatedWebhook, Empty, Webhook, WebhookDelivery, WebhookDeliveryList, WebhookList, created, ok } from '../schemas.js';

const Id = Type.Object({ id: Type.String({ description: 'the webhook id (wh-…) or its name' }) });

const WebhookIn = Type.Object({
  name: Type.String({ description: 'unique; letters, digits, ., _ and -' }),
  url: Type.String({ description: 'an http:// or https:// URL deliveries are POSTed to' }),
  events: Type.Union([Type.Array(Type.String(), { maxItems: 50 }), Type.String()], {
    description: "patterns of event types, as a list or comma-separated: 'model.*', 'pipeline.run.failed', '*'; each must match a known type",
  }),
  format: Type.Optional(Type.Union(WEBHOOK_FORMATS.map((f) => Type.Literal(f)), { description: 'fluxops (default) or slack' })),
  secret: Type.Optional(Type.String({ description: 'the signing secret (16 to 256 characters); generated when absent' })),
  filter: Type.Optional(Type.Object({ model: Type.Optional(Type.String()), endpoint: Type.Optional(Type.String()) }, { additionalProperties: false, description: 'only events about this model and/or endpoint' })),
  enabled: Type.Optional(Type.Boolean()),
});

/** Webhooks and their deliveries: admin only (a webhook sends the platform's events to any URL). */
export const webhookRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const w = platform.webhooks;
  const tags = ['webhooks'];
  app.post('/webhooks', { config: { auth: 'admin' }, schema: { response: created(CreatedWebhook), tags, summary: 'Subscribe a URL to events (the signing secret is shown once)', body: WebhookIn } }, async (req, reply) => {
    const { webhook, secret } = await w.createWebhook(req.body, callerOf(req));
    void reply.status(201);
    return { ...webhook, secret };
  });
  app.get('/webhooks', { config: { auth: 'admin' }, schema: { response: ok(WebhookList), tags, summary: 'List webhooks (never their secrets)' } }, async () => ({ webhooks: await w.listWebhooks() }));
  app.get('/webhooks/:id', { config: { auth: 'admin' }, schema: { response: ok(Webhook), tags, summary: 'A webhook', params: Id } }, async (req) => w.getWebhook(req.params.id));
  app.patch(
    '/webhooks/:id',
    { config: { auth: 'admin' }, schema: { response: ok(Webhook), tags, summary: 'Enable or disable a webhook', params: Id, body: Type.Object({ enabled: Type.Boolean() }) } },
    async (req) => w.setWebhookEnabled(req.params.id, req.body.enabled, callerOf(req)),
  );
  app.delete('/webhooks/:id', { config: { auth: 'admin' }, schema: { response: ok(Empty), tags, summary: 'Delete a webhook and its deliveries', params: Id } }, async (req) => {
    await w.deleteWebhook(req.params.id, callerOf(req));
    return {};
  });
  app.post(
    '/webhooks/:id/test',
    { config: { auth: 'admin' }, schema: { response: ok(WebhookDelivery), tags, summary: 'Send a signed webhook.test delivery now, once, and answer how it went', params: Id } },
    async (req) => w.testWebhook(req.params.id, callerOf(req)),
  );
  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { auth: 'admin' },
      schema: {
        response: ok(WebhookDeliveryList),
        tags,
        summary: "A webhook's deliveries, newest first: state, attempts, statuses, the last response",
        params: Id,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
          state: Type.Optional(Type.Union(DELIVERY_STATES.map((s) => Type.Literal(s)))),
        }),
      },
    },
    async (req) => ({ deliveries: await w.webhookDeliveries(req.params.id, { limit: req.query.limit, state: req.query.state }) }),
  );
};
