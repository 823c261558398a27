import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../../http/index.js';
import type { EndpointRouter, RolloutController } from '../../serving/index.js';
import type { Platform } from '../../platform.js';
import { EndpointLive, ok } from '../schemas.js';
import { liveGates } from './rollouts.js';

const Name = Type.Object({ name: Type.String() });
const LiveQuery = Type.Object({
  window_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 600_000, default: 10_000, description: 'the recent window the rates and percentiles are over (default 10 s)' })),
  interval_ms: Type.Optional(Type.Integer({ minimum: 250, maximum: 60_000, default: 1000, description: 'with Accept: text/event-stream, how often a figure is sent (default 1 s)' })),
});

/** What an endpoint is doing now, as this server sees it: each deployment's recent traffic, the split, and the newest rollout with its live gates. */
async function liveFigures(platform: Platform, router: EndpointRouter, controller: RolloutController, name: string, windowMs: number) {
  const endpoint = await platform.endpoints.getEndpoint(name);
  const now = Date.now();
  const snapshot = router.find(endpoint.name);
  const deployments: Record<string, { requests: number; errors: number; requestsPerSecond: number; errorRate: number; p50Ms: number | null; p95Ms: number | null; totalRequests: number; totalErrors: number; truncated: boolean }> = {};
  for (const d of endpoint.deployments) {
    const stats = snapshot?.deployments.get(d.name)?.stats;
    const w = stats?.window(now - windowMs);
    const requests = w?.requests ?? 0;
    deployments[d.name] = {
      requests,
      errors: w?.errors ?? 0,
      requestsPerSecond: requests / (windowMs / 1000),
      errorRate: w?.errorRate ?? 0,
      p50Ms: requests > 0 ? w!.p50Ms : null,
      p95Ms: requests > 0 ? w!.p95Ms : null,
      totalRequests: stats?.requests ?? 0,
      totalErrors: stats?.errors ?? 0,
      truncated: w?.truncated ?? false,
    };
  }
  const [newest] = await platform.rollouts.list({ endpoint: endpoint.name, limit: 1 });
  const rollout = newest === undefined ? null : { ...newest, live: await liveGates(controller, newest) };
  return { endpoint: endpoint.name, generation: endpoint.generation, time: now, windowMs, traffic: endpoint.traffic, mirror: endpoint.mirror, deployments, rollout };
}

/**
 * An endpoint's live figures: one JSON answer, or with `Accept: text/event-stream` a stream of
 * them (server-sent events, one `figures` event per interval) for the UI's live view. The route
 * is checked as any other (read permission on the matched route) before the stream opens.
 */
export const endpointLiveRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform, router, rolloutController }) => {
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of streams) end();
    done();
  });
  app.get(
    '/endpoints/:name/live',
    {
      config: { auth: 'read' },
      schema: {
        tags: ['endpoints'],
        summary: "Each deployment's recent requests/s, error rate and latency percentiles on this server, the split, and the newest rollout with its live gates; a server-sent event stream of them with Accept: text/event-stream",
        params: Name,
        querystring: LiveQuery,
        response: ok(EndpointLive),
      },
    },
    async (req, reply) => {
      const windowMs = req.query.window_ms ?? 10_000;
      const first = await liveFigures(platform, router, rolloutController, req.params.name, windowMs);
      if (!(req.headers.accept ?? '').includes('text/event-stream')) return first;
      const intervalMs = req.query.interval_ms ?? 1000;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let timer: NodeJS.Timeout | undefined;
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        streams.delete(end);
        res.end();
      };
      streams.add(end);
      res.once('close', end);
      const send = (figures: unknown): void => {
        if (!ended) res.write(`event: figures\ndata: ${JSON.stringify(figures)}\n\n`);
      };
      const tick = (): void => {
        liveFigures(platform, router, rolloutController, req.params.name, windowMs)
          .then(send, (e: unknown) => {
            // The endpoint went away (or the store failed): say so once and close.
            if (!ended) res.write(`event: failed\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
            end();
          })
          .finally(() => {
            if (!ended) timer = setTimeout(tick, intervalMs);
          });
      };
      res.write(`retry: ${Math.max(1000, intervalMs)}\n\n`);
      send(first);
      timer = setTimeout(tick, intervalMs);
      return reply;
    },
  );
};
