import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import type { Rollout as RolloutRecord } from '../../rollouts/index.js';
import type { RolloutController } from '../../serving/index.js';
import { created, ok, Rollout } from '../schemas.js';

const Id = Type.Object({ id: Type.String() });
const Name = Type.Object({ name: Type.String() });
const RolloutIn = Type.Object({
  to: Type.String({ description: 'the deployment to roll out (deployed beforehand, usually at 0 %; with `from`, created for it)' }),
  from: Type.Optional(Type.String({ description: 'another endpoint (staging) whose served version is deployed here as `to` and rolled out' })),
  strategy: Type.Optional(Type.Union([Type.Literal('canary'), Type.Literal('blueGreen')])),
  steps: Type.Optional(Type.Array(Type.Union([Type.Integer(), Type.Literal('pause')]), { description: 'canary: percents and pauses, such as [10, "pause", 50, 100]' })),
  bake: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'how long each step runs before it passes (30s, 2m; default 30s)' })),
  gates: Type.Optional(Type.Array(Type.String(), { description: 'bounds on each step\'s traffic: error_rate<0.01, p95_ms<100, p99_ms<50, psi<0.2' })),
  smoke: Type.Optional(Type.Array(Type.Unknown(), { description: 'requests sent to the new deployment alone at each step: {body, status?, predictions?}' })),
  minRequests: Type.Optional(Type.Integer({ description: 'requests a window needs before its gates count (default 20)' })),
  interval: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'how often the gates are evaluated (default 1s)' })),
  autoPromote: Type.Optional(Type.Boolean({ description: 'blueGreen: switch once the preview passes, without waiting for promote' })),
});

/** Rollouts: start on an endpoint, watch, and the operators' moves. The steps are driven by the rollout controller. */
export const rolloutRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform, rolloutController }) => {
  const r = platform.rollouts;
  const tags = ['rollouts'];
  const json = async (x: RolloutRecord) => ({ ...x, live: await liveGates(rolloutController, x) });

  app.post('/endpoints/:name/rollouts', { config: { auth: 'write' }, schema: { response: created(Rollout), tags, summary: 'Start a canary or blue/green rollout of a deployment', params: Name, body: RolloutIn } }, async (req, reply) => {
    const started = await r.start(req.params.name, req.body, callerOf(req));
    void reply.status(201);
    return json(started);
  });
  app.get('/endpoints/:name/rollouts', { config: { auth: 'read' }, schema: { response: ok(Type.Object({ rollouts: Type.Array(Rollout) })), tags, summary: "An endpoint's rollouts, newest first", params: Name } }, async (req) => ({
    rollouts: await Promise.all((await r.list({ endpoint: (await platform.endpoints.getEndpoint(req.params.name)).name })).map(json)),
  }));
  app.get('/rollouts/:id', { config: { auth: 'read' }, schema: { response: ok(Rollout), tags, summary: 'A rollout: state, step, results, and the current gate values', params: Id } }, async (req) => json(await r.get(req.params.id)));
  // Going past a pause is an approval; the other moves are a deployer's.
  app.post('/rollouts/:id/promote', { config: { auth: 'approve' }, schema: { response: ok(Rollout), tags, summary: 'Promote past a pause, or past the rest of the current step', params: Id } }, async (req) => json(await r.promote(req.params.id, callerOf(req))));
  app.post('/rollouts/:id/pause', { config: { auth: 'write' }, schema: { response: ok(Rollout), tags, summary: 'Hold the rollout at its current step', params: Id } }, async (req) => json(await r.pause(req.params.id, callerOf(req))));
  app.post('/rollouts/:id/resume', { config: { auth: 'write' }, schema: { response: ok(Rollout), tags, summary: 'Go on from a pause (the step bakes again)', params: Id } }, async (req) => json(await r.resume(req.params.id, callerOf(req))));
  app.post('/rollouts/:id/abort', { config: { auth: 'write' }, schema: { response: ok(Rollout), tags, summary: 'Stop, and send all traffic back to the stable deployment', params: Id } }, async (req) => json(await r.abort(req.params.id, callerOf(req))));
  app.post('/rollouts/:id/rollback', { config: { auth: 'write' }, schema: { response: ok(Rollout), tags, summary: 'All traffic back to the stable deployment (also after the rollout completed)', params: Id } }, async (req) => json(await r.rollback(req.params.id, callerOf(req))));
};

/** The current step's gates as the rollout's controller judges them (every server's traffic), for an active weight step. */
export async function liveGates(controller: RolloutController, r: RolloutRecord) {
  const step = r.spec.steps[r.step];
  if ((r.state !== 'running' && r.state !== 'paused') || step?.kind !== 'weight' || r.stepStartedAt === 0) return null;
  return controller.gates(r);
}
