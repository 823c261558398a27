import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { FluxError, type Component } from '../core/index.js';
import type { EndpointService } from '../endpoints/index.js';
import type { EventBus } from '../events/index.js';
import type { Logger } from '../logging/index.js';
import { compactClasses, evaluateGates, mergeParts, type GateResult, type Rollout, type RolloutService, type SmokeCase, type StepResult, type WindowPart } from '../rollouts/index.js';
import { PIN_HEADER, type EndpointRouter } from './endpoint-router.js';
import type { PredictResult } from './model-server.js';

export interface RolloutControllerOptions {
  /** How often active rollouts are looked at, in ms (default 200; each rollout's own interval applies on top). */
  tickMs?: number | undefined;
  /** How long a lease lasts without renewal, in ms (default 10 s): a server that dies gives its rollouts up after it. */
  leaseMs?: number | undefined;
  events?: EventBus | undefined;
}

/**
 * Drives rollouts: on each tick, for each active rollout this server holds the lease of (taken
 * when free or expired, renewed on every look), it moves the step's traffic and starts its clock,
 * runs the smoke requests against the new deployment alone, and evaluates the gates over the
 * step's window of live traffic as every server saw it: each server, lease or not, reports its
 * part of the window to the store (rollout_windows), and the lease holder adds them up. A failing gate or smoke request
 * sends all traffic back to stable in one change and ends the rollout; a step whose bake passed
 * moves on; the last one completes. Every move is an update conditional on the lease, so a
 * controller that lost its lease (a pause longer than the lease) changes nothing.
 *
 * After a crash another server (or this one restarted) takes the lease once it expires and goes
 * on from the stored step: a step that had begun keeps its traffic, and its window restarts.
 */
export class RolloutController implements Component {
  readonly name = 'rollout-controller';
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly lastLook = new Map<string, number>();
  private readonly lastReport = new Map<string, number>();
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(
    private readonly rollouts: RolloutService,
    private readonly endpoints: EndpointService,
    private readonly router: EndpointRouter,
    private readonly log?: Pick<Logger, 'info' | 'warn'>,
    private readonly opts: RolloutControllerOptions = {},
  ) {}

  async start(): Promise<void> {
    // An operator's move (promote, resume) is acted on at once, not at the next tick.
    this.unsubscribe = this.opts.events?.subscribe(['rollout.started', 'rollout.promoted', 'rollout.resumed'], (e) => {
      this.lastLook.delete(String((e.payload as { rollout: string }).rollout));
      this.tick();
    });
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 200);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.running !== undefined) await this.running;
    // Give the leases up so another server takes over at once rather than after they expire.
    for (const id of this.lastLook.keys()) await this.rollouts.release(id, this.owner).catch(() => undefined);
  }

  /** Looks at the active rollouts unless a look is under way. */
  tick(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.lookAll()
      .catch((e: unknown) => this.log?.warn({ err: (e as Error).message }, 'rollout controller tick failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  private async lookAll(): Promise<void> {
    const active = await this.rollouts.list({ active: true, limit: 1000 });
    const now = Date.now();
    for (const r of active) {
      if (this.stopped) return;
      await this.report(r, now).catch((e: unknown) => this.log?.warn({ rollout: r.id, err: (e as Error).message }, 'rollout window not reported'));
      const last = this.lastLook.get(r.id) ?? 0;
      if (now - last < r.spec.intervalMs) continue;
      if (!(await this.rollouts.lease(r.id, this.owner, now, now + (this.opts.leaseMs ?? 10_000)))) continue;
      this.lastLook.set(r.id, now);
      try {
        await this.drive(await this.rollouts.get(r.id));
      } catch (e) {
        this.log?.warn({ rollout: r.id, err: (e as Error).message }, 'rollout step not taken');
      }
    }
  }

  private async drive(r: Rollout): Promise<void> {
    if (r.state !== 'running') return;
    const actor = `rollout:${r.id}`;
    const step = r.spec.steps[r.step];
    if (step === undefined) {
      // Promoted past its last step.
      await this.setTraffic(r, 100, actor);
      await this.rollouts.complete(r, undefined, this.owner, actor);
      return;
    }
    if (r.stepStartedAt === 0) {
      if (step.kind === 'weight') {
        await this.setTraffic(r, step.weight, actor);
        const smoke = await this.smoke(r, r.spec.smoke);
        if (!smoke.passed) {
          await this.rollBack(r, { step: r.step, weight: step.weight, startedAt: Date.now(), endedAt: Date.now(), outcome: 'failed', gates: [], smoke }, `smoke test failed: ${smoke.failures[0]}`, 'smoke', null, actor);
          return;
        }
      }
      if (await this.rollouts.beginStep(r, this.owner, actor)) this.log?.info({ rollout: r.id, endpoint: r.endpoint, step: r.step, weight: step.kind === 'weight' ? step.weight : null }, 'rollout step begun');
      else await this.reconcile(r, actor);
      return;
    }
    if (step.kind === 'pause') return;
    const now = Date.now();
    // All traffic is on the new deployment: nothing is left to compare it with, and it is done.
    if (step.weight >= 100) {
      await this.rollouts.complete(r, { step: r.step, weight: step.weight, startedAt: r.stepStartedAt, endedAt: now, outcome: 'passed', gates: [], smoke: null }, this.owner, actor);
      return;
    }
    const gates = await this.gates(r);
    const failed = gates.find((g) => g.conclusive && !g.passed);
    const result = (outcome: StepResult['outcome']): StepResult => ({ step: r.step, weight: step.weight, startedAt: r.stepStartedAt, endedAt: now, outcome, gates, smoke: null });
    if (failed !== undefined && step.weight > 0) {
      await this.rollBack(r, result('failed'), `gate ${failed.gate} failed: ${failed.value} over ${failed.requests} requests`, failed.gate, failed.value, actor);
      return;
    }
    if (now - r.stepStartedAt < step.bakeMs) return;
    const conclusive = step.weight === 0 || gates.every((g) => g.conclusive);
    if (!conclusive) {
      // Too little traffic to judge: wait, up to three bakes, then refuse to guess.
      if (now - r.stepStartedAt > 3 * step.bakeMs + 10_000) {
        const g = gates.find((x) => !x.conclusive)!;
        await this.rollBack(r, result('failed'), `gate ${g.gate} inconclusive: only ${g.requests} requests (need ${r.spec.minRequests}) after ${Math.round((now - r.stepStartedAt) / 1000)} s`, g.gate, g.value, actor);
      }
      return;
    }
    if (r.step + 1 >= r.spec.steps.length) await this.rollouts.complete(r, result('passed'), this.owner, actor);
    else await this.rollouts.advance(r, result('passed'), this.owner);
  }

  /** The window since the step began, or since this server started when later (what it saw). */
  private since(r: Rollout): number {
    return Math.max(r.stepStartedAt, this.startedAt);
  }

  /** This server's parts of the step's window, of the target and the stable deployment. */
  private ownParts(r: Rollout): Array<{ deployment: string; part: WindowPart }> {
    const s = this.router.find(r.endpoint);
    if (s === undefined) return [];
    return [r.target, r.stable].flatMap((d) => {
      const stats = s.deployments.get(d)?.stats;
      return stats === undefined ? [] : [{ deployment: d, part: stats.part(this.since(r)).part }];
    });
  }

  /**
   * Every server reports what it saw of an active weight step, lease or not, at most once per
   * gate interval (and second): the lease holder judges the sum of all of them.
   */
  private async report(r: Rollout, now: number): Promise<void> {
    if (r.state !== 'running' || r.stepStartedAt === 0 || r.spec.steps[r.step]?.kind !== 'weight') return;
    if (now - (this.lastReport.get(r.id) ?? 0) < Math.min(1000, r.spec.intervalMs)) return;
    this.lastReport.set(r.id, now);
    for (const { deployment, part } of this.ownParts(r)) {
      await this.rollouts.reportWindow({ rolloutId: r.id, step: r.step, server: this.owner, deployment, part: { ...part, classes: compactClasses(part.classes) }, updatedAt: now });
    }
  }

  /** The gates over the step's window as every server saw it: the others' last reports and this server's live part. */
  async gates(r: Rollout): Promise<GateResult[]> {
    const others = (await this.rollouts.windows(r)).filter((w) => w.server !== this.owner);
    const own = this.ownParts(r);
    const of = (d: string) => mergeParts([...others.filter((w) => w.deployment === d).map((w) => w.part), ...own.filter((p) => p.deployment === d).map((p) => p.part)]);
    return evaluateGates(r.spec.gates, of(r.target), of(r.stable), r.spec.minRequests);
  }

  private async setTraffic(r: Rollout, weight: number, actor: string): Promise<void> {
    await this.endpoints.setTraffic(r.endpoint, weight >= 100 ? { [r.target]: 100 } : weight <= 0 ? { [r.stable]: 100 } : { [r.stable]: 100 - weight, [r.target]: weight }, { actor });
    // This server routes by the new split before the step's clock starts.
    await this.router.refresh();
  }

  /**
   * After a move of this controller's was refused (the rollout changed meanwhile: an operator
   * aborted or paused it, or another server took it over), the traffic it set may be stale: an
   * ended rollout gets its final traffic again.
   */
  private async reconcile(r: Rollout, actor: string): Promise<void> {
    const now = await this.rollouts.get(r.id);
    if (now.state === 'aborted' || now.state === 'rolled_back') await this.setTraffic(now, 0, actor);
    else if (now.state === 'succeeded') await this.setTraffic(now, 100, actor);
  }

  private async rollBack(r: Rollout, result: StepResult, reason: string, gate: string | null, value: number | null, actor: string): Promise<void> {
    await this.setTraffic(r, 0, actor);
    if (await this.rollouts.fail(r, result, reason, gate, value, this.owner, actor)) this.log?.warn({ rollout: r.id, endpoint: r.endpoint, reason }, 'rollout rolled back');
  }

  /** The saved requests, each sent to the new deployment alone; a failure names the case and why. */
  private async smoke(r: Rollout, cases: readonly SmokeCase[]): Promise<{ passed: boolean; failures: string[] }> {
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const name = c.name ?? `smoke[${i}]`;
      const want = c.status ?? 200;
      let status = 200;
      let out: PredictResult | undefined;
      try {
        out = await this.router.predict(r.endpoint, c.body, { [PIN_HEADER]: r.target });
      } catch (e) {
        status = e instanceof FluxError ? e.httpStatus : 500;
        if (status === want) continue;
        failures.push(`${name}: status ${status}, expected ${want} (${(e as Error).message})`);
        continue;
      }
      if (status !== want) {
        failures.push(`${name}: status 200, expected ${want}`);
        continue;
      }
      if (!Array.isArray(out.predictions) || out.predictions.length === 0) failures.push(`${name}: no predictions in the answer`);
      else if (out.classes !== undefined && out.classes.length > 0 && (out.probabilities?.length ?? 0) !== out.predictions.length) {
        failures.push(`${name}: ${out.predictions.length} predictions but ${out.probabilities?.length ?? 0} probability rows`);
      }
      else if (c.predictions !== undefined && JSON.stringify(c.predictions) !== JSON.stringify(out.predictions)) {
        failures.push(`${name}: predicted ${JSON.stringify(out.predictions)}, expected ${JSON.stringify(c.predictions)}`);
      }
    }
    return { passed: failures.length === 0, failures };
  }
}
