import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf, type RouteDeps } from '../../http/index.js';
import { created, Empty, Firing, ok, Schedule } from '../schemas.js';

const Name = Type.Object({ name: Type.String({ description: "the schedule's name (or its id)" }) });
const ScheduleIn = Type.Object({
  name: Type.String({ description: 'lower-case letters, digits and -, such as nightly-retrain' }),
  cron: Type.String({ description: "five fields, such as '41 22 * * *' (22:41 every day), or a nickname such as @daily" }),
  timezone: Type.Optional(Type.String({ description: 'the IANA time zone the expression is read in (default UTC)' })),
  pipeline: Type.Optional(Type.String({ description: "the pipeline's name; by default the name the spec declares" })),
  pipelineSpec: Type.String({ description: 'the pipeline file (YAML), kept whole' }),
  params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'parameters handed to each run' })),
  overlap: Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('queue')], { description: 'while the previous run still goes: skip the slot (default) or queue it (one at most)' })),
  catchUp: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('latest')], { description: 'after a downtime: fire no missed slot (default) or only the latest' })),
});
const Limit = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'at most this many (default 50)' })) });

/** Schedules: cron slots that start a pipeline run. Firing them is the scheduler's, on whichever server claims each slot. */
export const scheduleRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { platform }) => {
  const s = platform.schedules;
  const tags = ['schedules'];

  app.get('/schedules', { config: { auth: 'read' }, schema: { response: ok(Type.Object({ schedules: Type.Array(Schedule) })), tags, summary: 'List schedules, by name' } }, async () => ({
    schedules: await s.list(),
  }));
  app.post('/schedules', { config: { auth: 'write' }, schema: { response: created(Schedule), tags, summary: 'Create a schedule that starts a pipeline at cron slots', body: ScheduleIn } }, async (req, reply) => {
    const made = await s.create(req.body, callerOf(req));
    void reply.status(201);
    return made;
  });
  app.get('/schedules/:name', { config: { auth: 'read' }, schema: { response: ok(Schedule), tags, summary: 'A schedule and its next slot', params: Name } }, async (req) => s.get(req.params.name));
  app.get(
    '/schedules/:name/firings',
    { config: { auth: 'read' }, schema: { response: ok(Type.Object({ firings: Type.Array(Firing) })), tags, summary: "A schedule's firings, newest slot first", params: Name, querystring: Limit } },
    async (req) => ({ firings: await s.firings(req.params.name, { limit: req.query.limit }) }),
  );
  app.post('/schedules/:name/pause', { config: { auth: 'write' }, schema: { response: ok(Schedule), tags, summary: 'Stop firing (slots passing meanwhile never fire)', params: Name } }, async (req) =>
    s.pause(req.params.name, callerOf(req)),
  );
  app.post('/schedules/:name/resume', { config: { auth: 'write' }, schema: { response: ok(Schedule), tags, summary: 'Fire again, from the next slot after now', params: Name } }, async (req) =>
    s.resume(req.params.name, callerOf(req)),
  );
  app.delete('/schedules/:name', { config: { auth: 'write' }, schema: { response: ok(Empty), tags, summary: 'Delete a schedule and its firing history', params: Name } }, async (req) => {
    await s.delete(req.params.name, callerOf(req));
    return {};
  });
};
