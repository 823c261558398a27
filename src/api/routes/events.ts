import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENT_TYPES, MAX_EVENT_PAGE, MAX_EVENT_WAIT_MS, type DomainEvent } from '../../events/index.js';
import type { RouteDeps } from '../../http/index.js';
import { ok } from '../schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const EventJson = Type.Object({
  seq: Type.Integer(),
  type: Type.String({ description: `one of ${EVENT_TYPES.join(', ')}` }),
  time: Type.Integer({ description: 'epoch ms of the commit' }),
  model: Nullable(Type.String()),
  run_id: Nullable(Type.String()),
  experiment_id: Nullable(Type.String()),
  endpoint: Nullable(Type.String()),
  payload: Type.Record(Type.String(), Type.Unknown()),
  actor: Nullable(Type.String({ description: 'name of the API key that made the change' })),
});

const EventsQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'return events with a seq above this (the previous next_after)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENT_PAGE, default: 100 })),
  type: Type.Optional(Type.Array(Type.String(), { description: 'only these event types (repeat the parameter, or separate with commas)' })),
  wait_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_EVENT_WAIT_MS, default: 0, description: 'when none is there yet, wait this long for one (long poll)' })),
});

const EventsPage = Type.Object({
  events: Type.Array(EventJson),
  next_after: Type.Integer({ description: 'pass as `after` to read on' }),
});

export function eventToJson(e: DomainEvent) {
  return { seq: e.seq, type: e.type, time: e.time, model: e.model, run_id: e.runId, experiment_id: e.experimentId, endpoint: e.endpoint, payload: e.payload, actor: e.actor };
}

/** The outbox read from a cursor: what changed, in commit order, for scripts, UIs and other services. */
export const eventRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  // Long polls end when the server closes, so they do not hold up a graceful shutdown.
  const waiting = new Set<AbortController>();
  app.addHook('preClose', (done) => {
    for (const w of waiting) w.abort();
    done();
  });

  app.get(
    '/events',
    { config: { auth: 'read' }, schema: { tags: ['events'], summary: 'Domain events after a cursor, in order', querystring: EventsQuery, response: ok(EventsPage) } },
    async (req, reply) => {
      const q = req.query;
      const abort = new AbortController();
      const onGone = () => abort.abort();
      // The response's close (not the request's, which fires once its empty body is read) means the client went away.
      reply.raw.once('close', onGone);
      waiting.add(abort);
      try {
        const page = await platform.events.log.read({
          after: q.after,
          limit: q.limit,
          types: (q.type ?? []).flatMap((t) => t.split(',')).filter((t) => t !== ''),
          waitMs: q.wait_ms,
          signal: abort.signal,
        });
        return { events: page.events.map(eventToJson), next_after: page.nextAfter };
      } finally {
        waiting.delete(abort);
        reply.raw.off('close', onGone);
      }
    },
  );
};
