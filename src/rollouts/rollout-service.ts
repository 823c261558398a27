import { randomBytes } from 'node:crypto';
import { FluxError } from '../core/index.js';
import { mainDeployment, type EndpointService } from '../endpoints/index.js';
import { actorOf, type NewEvent, type WriteContext } from '../events/index.js';
import type { RolloutPatch, RolloutStore, StoredWindow } from './rollout-store.js';
import { isActive, parseSpec, type Rollout, type RolloutSpecInput, type RolloutState, type StepResult } from './types.js';

const ROLLOUT_ID = /^ro-[0-9a-f]{12}$/;

/**
 * Rollouts of a deployment on an endpoint: start, and the operators' moves (promote, pause,
 * resume, abort, rollback). The steps themselves are driven by the controller of whichever server
 * holds the rollout's lease (`serving/rollout-controller.ts`), through `advance`, `complete` and
 * `fail`, each conditional on its lease.
 */
export class RolloutService {
  constructor(
    private readonly store: RolloutStore,
    private readonly endpoints: EndpointService,
  ) {}

  async start(endpoint: unknown, input: RolloutSpecInput & { to: unknown; from?: unknown }, ctx?: WriteContext): Promise<Rollout> {
    let e = await this.endpoints.getEndpoint(endpoint);
    const spec = parseSpec(input);
    if (input.from !== undefined) {
      // Staging → production: the version the staging endpoint serves (and was tested on there)
      // is deployed here as `to`, at 0 %, and rolled out.
      if (input.from === e.name) throw new FluxError('INVALID_PARAMETER_VALUE', 'from must name another endpoint (such as the staging one)', { field: 'from' });
      const served = await this.endpoints.servedVersion(input.from);
      if (typeof input.to !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'to must name the deployment to create here for it, such as green', { field: 'to' });
      if ((e.traffic[input.to] ?? 0) > 0) throw new FluxError('INVALID_STATE', `deployment '${input.to}' of '${e.name}' takes traffic now: roll out to another name`);
      e = await this.endpoints.deploy(e.name, { name: input.to, model: served.ref }, ctx);
    }
    if (typeof input.to !== 'string' || !e.deployments.some((d) => d.name === input.to)) {
      throw new FluxError('INVALID_PARAMETER_VALUE', `to must name a deployment of '${e.name}' (deployments: ${e.deployments.map((d) => d.name).join(', ') || 'none'}); deploy it first`, { field: 'to' });
    }
    const target = input.to;
    const stable = mainDeployment(e.traffic, target);
    if (stable === undefined) throw new FluxError('INVALID_STATE', `no other deployment of '${e.name}' takes traffic, so there is nothing to roll out from: set its traffic instead`);
    const now = Date.now();
    const r: Rollout = {
      id: `ro-${randomBytes(6).toString('hex')}`,
      endpoint: e.name,
      stable,
      target,
      strategy: spec.strategy,
      spec,
      state: 'running',
      step: 0,
      // 0: the step has not begun; the controller moves its traffic, then starts its clock.
      stepStartedAt: 0,
      results: [],
      reason: null,
      startedBy: actorOf(ctx),
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    await this.store.create(r, { type: 'rollout.started', endpoint: e.name, payload: { rollout: r.id, endpoint: e.name, stable, target, strategy: spec.strategy }, actor: actorOf(ctx) });
    return r;
  }

  async get(id: unknown): Promise<Rollout> {
    if (typeof id !== 'string' || !ROLLOUT_ID.test(id)) throw new FluxError('INVALID_PARAMETER_VALUE', `rollout id must look like ro-0123456789ab; got ${JSON.stringify(id)}`, { field: 'id' });
    const r = await this.store.get(id);
    if (r === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `rollout ${id} does not exist`);
    return r;
  }

  list(q: { endpoint?: string | undefined; active?: boolean | undefined; states?: readonly RolloutState[] | undefined; limit?: number | undefined } = {}): Promise<Rollout[]> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new FluxError('INVALID_PARAMETER_VALUE', 'limit must be an integer from 1 to 10000', { field: 'limit' });
    return this.store.list({ endpoint: q.endpoint, active: q.active, states: q.states, limit });
  }

  /** The endpoint's active rollout, or its latest one. */
  async current(endpoint: unknown): Promise<Rollout> {
    const e = await this.endpoints.getEndpoint(endpoint);
    const [latest] = await this.store.list({ endpoint: e.name, limit: 1 });
    if (latest === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${e.name}' has had no rollout`);
    return latest;
  }

  /** Past a pause (approver), or past the rest of the current step's bake. */
  async promote(id: unknown, ctx?: WriteContext): Promise<Rollout> {
    const r = await this.active(id, 'promote');
    const now = Date.now();
    const step = r.spec.steps[r.step]!;
    const result: StepResult = { step: r.step, weight: step.kind === 'weight' ? step.weight : null, startedAt: r.stepStartedAt, endedAt: now, outcome: step.kind === 'pause' ? 'approved' : 'promoted', gates: [], smoke: null };
    const last = r.step + 1 >= r.spec.steps.length;
    if (last) {
      // Promoting the last step completes the rollout; the controller then moves all traffic.
      await this.move(r, ['running', 'paused'], { state: 'running', stepStartedAt: 0, result }, [{ type: 'rollout.promoted', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step }, actor: actorOf(ctx) }]);
    } else {
      await this.move(r, ['running', 'paused'], { state: 'running', step: r.step + 1, stepStartedAt: 0, result }, [{ type: 'rollout.promoted', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step }, actor: actorOf(ctx) }]);
    }
    return this.get(r.id);
  }

  async pause(id: unknown, ctx?: WriteContext): Promise<Rollout> {
    const r = await this.active(id, 'pause');
    await this.move(r, ['running'], { state: 'paused' }, [{ type: 'rollout.paused', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step }, actor: actorOf(ctx) }]);
    return this.get(r.id);
  }

  async resume(id: unknown, ctx?: WriteContext): Promise<Rollout> {
    const r = await this.active(id, 'resume');
    if (r.spec.steps[r.step]!.kind === 'pause') throw new FluxError('INVALID_STATE', `rollout ${r.id} waits at a pause step: it goes on with promote (an approver's)`);
    // The bake starts again: the traffic before the pause is not this step's evidence any more.
    await this.move(r, ['paused'], { state: 'running', stepStartedAt: 0 }, [{ type: 'rollout.resumed', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step }, actor: actorOf(ctx) }]);
    return this.get(r.id);
  }

  /** Stops an active rollout and sends all traffic back to the stable deployment. */
  async abort(id: unknown, ctx?: WriteContext): Promise<Rollout> {
    const r = await this.active(id, 'abort');
    const reason = `aborted by ${actorOf(ctx) ?? 'an operator'}`;
    // The state first: a controller that moves traffic meanwhile then finds the rollout over and puts it back.
    await this.move(r, ['running', 'paused'], { state: 'aborted', reason, finishedAt: Date.now() }, [rolledBack(r, reason, null, null, actorOf(ctx))]);
    await this.endpoints.setTraffic(r.endpoint, { [r.stable]: 100 }, ctx);
    return this.get(r.id);
  }

  /** After a rollout completed: all traffic back to the deployment it came from. */
  async rollback(id: unknown, ctx?: WriteContext): Promise<Rollout> {
    const r = await this.get(id);
    if (isActive(r.state)) return this.abort(id, ctx);
    if (r.state !== 'succeeded') throw new FluxError('INVALID_STATE', `rollout ${r.id} is ${r.state}: traffic is already with ${r.stable}`);
    const reason = `rolled back by ${actorOf(ctx) ?? 'an operator'} after completing`;
    await this.move(r, ['succeeded'], { state: 'rolled_back', reason }, [rolledBack(r, reason, null, null, actorOf(ctx))]);
    await this.endpoints.setTraffic(r.endpoint, { [r.stable]: 100 }, ctx);
    return this.get(r.id);
  }

  // ---- the controller's moves, each only while `owner` holds the lease ----

  lease(id: string, owner: string, now: number, until: number): Promise<boolean> {
    return this.store.lease(id, owner, now, until);
  }

  release(id: string, owner: string): Promise<void> {
    return this.store.release(id, owner);
  }

  /** What one server saw of a step's traffic; every server reports, so the controller judges them all. */
  reportWindow(w: StoredWindow): Promise<void> {
    return this.store.reportWindow(w);
  }

  /** Every server's report of the rollout's current step. */
  windows(r: Rollout): Promise<StoredWindow[]> {
    return this.store.windows(r.id, r.step);
  }

  /** The step's traffic is in place: it begins now. */
  beginStep(r: Rollout, owner: string, actor: string): Promise<boolean> {
    const step = r.spec.steps[r.step]!;
    const events: NewEvent[] = [{ type: 'rollout.step', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step, weight: step.kind === 'weight' ? step.weight : null }, actor }];
    if (step.kind === 'pause') events.push({ type: 'rollout.paused', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step }, actor });
    return this.store.update(r.id, ['running'], { stepStartedAt: Date.now(), ...(step.kind === 'pause' ? { state: 'paused' as const } : {}) }, events, owner);
  }

  /** The step passed: on to the next. */
  advance(r: Rollout, result: StepResult, owner: string): Promise<boolean> {
    return this.store.update(r.id, ['running'], { step: r.step + 1, stepStartedAt: 0, result }, [], owner);
  }

  complete(r: Rollout, result: StepResult | undefined, owner: string, actor: string): Promise<boolean> {
    return this.store.update(
      r.id,
      ['running'],
      { state: 'succeeded', finishedAt: Date.now(), ...(result !== undefined ? { result } : {}) },
      [{ type: 'rollout.completed', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, target: r.target }, actor }],
      owner,
    );
  }

  /** A gate or smoke test failed; the controller has already sent all traffic back to stable. */
  fail(r: Rollout, result: StepResult, reason: string, gate: string | null, value: number | null, owner: string, actor: string): Promise<boolean> {
    return this.store.update(r.id, ['running'], { state: 'rolled_back', reason, finishedAt: Date.now(), result }, [rolledBack(r, reason, gate, value, actor)], owner);
  }

  private async active(id: unknown, what: string): Promise<Rollout> {
    const r = await this.get(id);
    if (!isActive(r.state)) throw new FluxError('INVALID_STATE', `rollout ${r.id} is ${r.state}; only a running or paused rollout can ${what}`);
    return r;
  }

  private async move(r: Rollout, from: readonly RolloutState[], patch: RolloutPatch, events: NewEvent[]): Promise<void> {
    if (!(await this.store.update(r.id, from, patch, events))) {
      const now = await this.get(r.id);
      throw new FluxError('INVALID_STATE', `rollout ${r.id} is ${now.state} at step ${now.step} now: it moved meanwhile`);
    }
  }
}

function rolledBack(r: Rollout, reason: string, gate: string | null, value: number | null, actor: string | null): NewEvent {
  return { type: 'rollout.rolled_back', endpoint: r.endpoint, payload: { rollout: r.id, endpoint: r.endpoint, step: r.step, reason, gate, value }, actor };
}
