import fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { RolloutView } from '../../client/index.js';
import { FluxError } from '../../core/index.js';
import type { RolloutSpecInput } from '../../rollouts/index.js';
import { withBackend, type Backend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';
import { collect } from './train.js';

const ACTIONS = {
  promote: 'go on past a pause (an approver key), or past the rest of the current step',
  pause: 'hold the rollout at its current step',
  resume: 'go on from a pause you made (the step bakes again)',
  abort: 'stop, and send all traffic back to the stable deployment',
  rollback: 'send all traffic back to the stable deployment, also after the rollout completed',
} as const;

/** A rollout id, or an endpoint's name for its latest rollout. */
async function resolve(b: Backend, target: string): Promise<RolloutView> {
  if (/^ro-[0-9a-f]{12}$/.test(target)) return b.rollouts.getRollout(target);
  const [latest] = await b.rollouts.listRollouts(target);
  if (latest === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `endpoint '${target}' has had no rollout`);
  return latest;
}

function describe(r: RolloutView): string {
  const steps = r.spec.steps.map((s, i) => `${i === r.step && (r.state === 'running' || r.state === 'paused') ? '▶' : ' '}${s.kind === 'pause' ? 'pause' : `${s.weight}%`}`).join(' ');
  const lines = [
    `rollout ${r.id} on ${r.endpoint}: ${r.stable} → ${r.target} (${r.strategy}), ${r.state}${r.reason ? ` — ${r.reason}` : ''}`,
    `steps ${steps}; gates ${r.spec.gates.map((g) => `${g.metric}${g.inclusive ? '<=' : '<'}${g.max}`).join(', ') || 'none'}; smoke ${r.spec.smoke.length}; started ${formatTime(r.startedAt)}${r.startedBy ? ` by ${r.startedBy}` : ''}`,
  ];
  if (r.results.length > 0) {
    lines.push(
      renderTable(
        ['step', 'traffic', 'outcome', 'gates'],
        r.results.map((x) => [x.step, x.weight === null ? 'pause' : `${x.weight}%`, x.outcome, x.gates.map((g) => `${g.gate}: ${g.value ?? '-'}${g.passed ? ' ✓' : g.conclusive ? ' ✗' : ' …'}`).join('  ') || (x.smoke && !x.smoke.passed ? x.smoke.failures[0]! : '-')]),
      ),
    );
  }
  if (r.live) lines.push(`now: ${r.live.map((g) => `${g.gate}: ${g.value ?? '-'} over ${g.requests} requests${g.conclusive ? (g.passed ? ' ✓' : ' ✗') : ' (not enough traffic yet)'}`).join('  ')}`);
  return lines.join('\n');
}

export function registerRollouts(program: Command): void {
  const rollout = program.command('rollout').description('canary and blue/green rollouts of a deployment, with gates and automatic rollback');
  rollout
    .command('start <endpoint>')
    .description('start rolling traffic over to a deployment (deploy it first at 0 %)')
    .option('--to <deployment>', 'the deployment to roll out')
    .option('--from <endpoint>', 'promote from another endpoint (staging): deploy the version it serves here as --to, then roll it out')
    .option('--strategy <strategy>', 'canary (steps) or blueGreen (preview at 0 %, then promote)')
    .option('--steps <list>', 'canary steps: percents and pauses, such as 10,50,100 or 10,pause,50,100')
    .option('--bake <duration>', 'how long each step runs before it passes (30s, 2m)')
    .option('--gate <gate>', "a bound on each step's traffic: error_rate<0.01, p95_ms<100, p99_ms<50, psi<0.2 (repeatable)", collect, [])
    .option('--smoke <file>', 'JSON list of requests sent to the new deployment alone: [{"body": {...}, "status": 200, "predictions": [...]}]')
    .option('--min-requests <n>', 'requests a step needs before its gates count (default 20)')
    .option('--interval <duration>', 'how often gates are evaluated (default 1s)')
    .option('--auto-promote', 'blueGreen: switch once the preview passes, without waiting for promote')
    .option('-f, --file <file>', 'the rollout declared in a JSON or YAML file (to, strategy, steps, bake, gates, smoke, minRequests, interval); flags override it')
    .action(async (endpoint: string, o: { to?: string; from?: string; strategy?: string; steps?: string; bake?: string; gate: string[]; smoke?: string; minRequests?: string; interval?: string; autoPromote?: boolean; file?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const declared = o.file === undefined ? {} : readDeclaration(o.file);
      const input: RolloutSpecInput & { to: unknown } = {
        ...declared,
        ...(o.to !== undefined ? { to: o.to } : {}),
        ...(o.from !== undefined ? { from: o.from } : {}),
        ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
        ...(o.steps !== undefined ? { steps: o.steps } : {}),
        ...(o.bake !== undefined ? { bake: o.bake } : {}),
        ...(o.gate.length > 0 ? { gates: o.gate } : {}),
        ...(o.smoke !== undefined ? { smoke: readJson(o.smoke, '--smoke') } : {}),
        ...(o.minRequests !== undefined ? { minRequests: Number(o.minRequests) } : {}),
        ...(o.interval !== undefined ? { interval: o.interval } : {}),
        ...(o.autoPromote === true ? { autoPromote: true } : {}),
        to: o.to ?? (declared as { to?: unknown }).to,
      };
      if (typeof input.to !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', 'say which deployment to roll out: --to <deployment> (or "to" in the file)');
      await withBackend(g, async (b) => {
        const r = await b.rollouts.startRollout(endpoint, input as RolloutSpecInput & { to: string });
        printResult(g, r, () => `${describe(r)}\nwatch it with: fluxops rollout status ${r.endpoint} --watch`);
      });
    });
  rollout
    .command('status <rollout>')
    .description("a rollout (its id, or an endpoint's name for its latest): state, steps, gate values")
    .option('--watch', 'keep showing it, once a second, until it ends')
    .action(async (target: string, o: { watch?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        let r = await resolve(b, target);
        printResult(g, r, () => describe(r));
        while (o.watch === true && (r.state === 'running' || r.state === 'paused')) {
          await new Promise((res) => setTimeout(res, 1000));
          r = await b.rollouts.getRollout(r.id);
          printResult(g, r, () => `\n${describe(r)}`);
        }
      });
    });
  rollout
    .command('list <endpoint>')
    .description("an endpoint's rollouts, newest first")
    .action(async (endpoint: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.rollouts.listRollouts(endpoint);
        printResult(g, list, () =>
          list.length === 0 ? `no rollouts on ${endpoint} yet` : renderTable(['rollout', 'from → to', 'state', 'step', 'started', 'reason'], list.map((r) => [r.id, `${r.stable} → ${r.target}`, r.state, r.step, formatTime(r.startedAt), r.reason ?? '-'])),
        );
      });
    });
  for (const [action, description] of Object.entries(ACTIONS) as Array<[keyof typeof ACTIONS, string]>) {
    rollout
      .command(`${action} <rollout>`)
      .description(`${description} (the rollout's id, or an endpoint's name for its latest)`)
      .action(async (target: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        await withBackend(g, async (b) => {
          const r = await b.rollouts.rolloutAction((await resolve(b, target)).id, action);
          printResult(g, r, () => describe(r));
        });
      });
  }
}

function readText(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readJson(file: string, flag: string): unknown {
  try {
    return JSON.parse(readText(file, flag)) as unknown;
  } catch (e) {
    if (e instanceof FluxError) throw e;
    throw new FluxError('INVALID_PARAMETER_VALUE', `${flag}: ${file} is not JSON (${(e as Error).message})`);
  }
}

function readDeclaration(file: string): Record<string, unknown> {
  const text = readText(file, '--file');
  let v: unknown;
  try {
    v = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `--file: ${file} is not ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `--file: ${file} must hold an object (to, strategy, steps, bake, gates, smoke …)`);
  return v as Record<string, unknown>;
}
