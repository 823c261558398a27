import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import type { Endpoint } from '../../endpoints/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';

/** `blue=90 green=10` → {blue: 90, green: 10}; a sentence for anything else. */
export function parseAssignments(args: string[], what: string): Record<string, number> {
  if (args.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', `give the ${what} as deployment=percent pairs, such as blue=90 green=10`);
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([^=\s]+)=(\d{1,3})$/.exec(a);
    if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `'${a}' is not deployment=percent (such as green=10)`);
    if (m[1]! in out) throw new FluxError('INVALID_PARAMETER_VALUE', `deployment ${m[1]} is given twice`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function describe(e: Endpoint & { status?: Array<{ name: string; version: string | null; error: string | null }> }): string {
  const logged = e.inferenceLog.sampleRate === 0 ? 'predictions not logged' : `${e.inferenceLog.sampleRate * 100} % of predictions logged for ${e.inferenceLog.retentionDays} days`;
  const head = `endpoint ${e.name} (${e.environment})${e.description ? ` — ${e.description}` : ''}${e.stickyHeader ? `, sticky on ${e.stickyHeader}` : ''}${e.predictRoles ? `, predictions by ${e.predictRoles.join('/')}` : ''}; ${logged}`;
  if (e.deployments.length === 0) return `${head}\nno deployments yet: fluxops deploy ${e.name} --name blue --model <name>/<version>`;
  const rows = e.deployments.map((d) => {
    const s = e.status?.find((x) => x.name === d.name);
    return [d.name, d.model, s === undefined ? '-' : (s.version ?? `not loaded${s.error ? `: ${s.error}` : ''}`), `${e.traffic[d.name] ?? 0} %`, e.mirror[d.name] ? `${e.mirror[d.name]} %` : '-', d.batching ? `${d.batching.maxBatch} rows / ${d.batching.maxWaitMs} ms` : '-'];
  });
  return `${head}\n${renderTable(['deployment', 'model', 'serving', 'traffic', 'mirror', 'batching'], rows)}`;
}

/** `--log-sample` and `--log-retention` as the API's inferenceLog (the service validates the numbers). */
function inferenceLogFlags(o: { logSample?: string; logRetention?: string }): { sampleRate?: number; retentionDays?: number } | undefined {
  if (o.logSample === undefined && o.logRetention === undefined) return undefined;
  const num = (v: string, flag: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag} must be a number, got '${v}'`, { field: flag });
    return n;
  };
  return {
    ...(o.logSample !== undefined ? { sampleRate: num(o.logSample, '--log-sample') } : {}),
    ...(o.logRetention !== undefined ? { retentionDays: num(o.logRetention, '--log-retention') } : {}),
  };
}

export function registerEndpoints(program: Command): void {
  const endpoints = program.command('endpoints').description('endpoints: named ways in to one or more deployed models, with a traffic split');
  endpoints
    .command('create <name>')
    .description('create an endpoint (then deploy to it)')
    .option('--env <environment>', 'a label such as staging or production', 'production')
    .option('--description <text>', 'what it is for')
    .option('--predict-roles <roles>', 'comma-separated roles that may predict on it (developer, predict, admin; default: all of them)')
    .option('--sticky-header <header>', 'keep each caller on one deployment by hashing this request header, such as X-User-Id')
    .option('--log-sample <rate>', 'share of requests logged to the inference table, 0 to 1 (default 1: every one)')
    .option('--log-retention <days>', 'delete logged requests older than this many days (default 30)')
    .action(async (name: string, o: { env: string; description?: string; predictRoles?: string; stickyHeader?: string; logSample?: string; logRetention?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const inferenceLog = inferenceLogFlags(o);
        const e = await b.endpoints.createEndpoint({
          name,
          environment: o.env,
          description: o.description,
          predictRoles: o.predictRoles?.split(',').map((r) => r.trim()),
          stickyHeader: o.stickyHeader,
          ...(inferenceLog !== undefined ? { inferenceLog } : {}),
        });
        printResult(g, e, () => `created endpoint ${e.name} (${e.environment}); deploy a model with: fluxops deploy ${e.name} --name blue --model <name>/<version>`);
      });
    });
  endpoints
    .command('update <name>')
    .description("change an endpoint's description, predict roles, sticky header or inference logging")
    .option('--description <text>', 'what it is for')
    .option('--predict-roles <roles>', "comma-separated roles that may predict on it ('' for all)")
    .option('--sticky-header <header>', "the header that keeps a caller on one deployment ('' for none)")
    .option('--log-sample <rate>', 'share of requests logged to the inference table, 0 to 1')
    .option('--log-retention <days>', 'delete logged requests older than this many days')
    .action(async (name: string, o: { description?: string; predictRoles?: string; stickyHeader?: string; logSample?: string; logRetention?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const inferenceLog = inferenceLogFlags(o);
        const e = await b.endpoints.updateEndpoint(name, {
          ...(o.description !== undefined ? { description: o.description } : {}),
          ...(o.predictRoles !== undefined ? { predictRoles: o.predictRoles === '' ? null : o.predictRoles.split(',').map((r) => r.trim()) } : {}),
          ...(o.stickyHeader !== undefined ? { stickyHeader: o.stickyHeader === '' ? null : o.stickyHeader } : {}),
          ...(inferenceLog !== undefined ? { inferenceLog } : {}),
        });
        printResult(g, e, () => describe(e));
      });
    });
  endpoints
    .command('list')
    .description('list endpoints with their deployments and traffic')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.endpoints.listEndpoints();
        printResult(g, list, () =>
          list.length === 0
            ? 'no endpoints yet: fluxops endpoints create <name>'
            : renderTable(
                ['endpoint', 'environment', 'deployments (traffic)', 'updated'],
                list.map((e) => [e.name, e.environment, e.deployments.map((d) => `${d.name}=${e.traffic[d.name] ?? 0}% ${d.model}`).join(', ') || '-', formatTime(e.updatedAt)]),
              ),
        );
      });
    });
  endpoints
    .command('show <name>')
    .description('an endpoint, its deployments, what is served, traffic and mirror')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const e = await b.endpoints.getEndpoint(name);
        printResult(g, e, () => describe(e));
      });
    });
  endpoints
    .command('delete <name>')
    .description('delete an endpoint and its deployments')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.endpoints.deleteEndpoint(name);
        printResult(g, { deleted: name }, () => `deleted endpoint ${name}`);
      });
    });

  program
    .command('deploy <endpoint>')
    .description('deploy a model to an endpoint: creates the deployment, or points it at another model (hot swap)')
    .requiredOption('--name <deployment>', 'the deployment, such as blue or green')
    .requiredOption('--model <ref>', 'a version (diabetes/3) or an alias to follow (diabetes@production)')
    .option('--traffic <percent>', "this deployment's share afterwards; the others are scaled to fill the rest (default: 100 for an endpoint's first deployment, else unchanged/0)")
    .option('--max-batch <rows>', 'micro-batching: largest batch in rows (with --max-wait-ms)')
    .option('--max-wait-ms <ms>', 'micro-batching: longest a request waits for others')
    .action(async (endpoint: string, o: { name: string; model: string; traffic?: string; maxBatch?: string; maxWaitMs?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if ((o.maxBatch === undefined) !== (o.maxWaitMs === undefined)) throw new FluxError('INVALID_PARAMETER_VALUE', 'micro-batching needs both --max-batch and --max-wait-ms');
      await withBackend(g, async (b) => {
        const e = await b.endpoints.deploy(endpoint, {
          name: o.name,
          model: o.model,
          traffic: o.traffic === undefined ? undefined : integer(o.traffic, '--traffic'),
          batching: o.maxBatch === undefined ? undefined : { maxBatch: integer(o.maxBatch, '--max-batch'), maxWaitMs: integer(o.maxWaitMs!, '--max-wait-ms') },
        });
        printResult(g, e, () => `deployed ${o.model} as ${o.name} on ${e.name}\n${describe(e)}`);
      });
    });
  program
    .command('undeploy <endpoint> <deployment>')
    .description('remove a deployment that takes no traffic')
    .action(async (endpoint: string, deployment: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const e = await b.endpoints.removeDeployment(endpoint, deployment);
        printResult(g, e, () => `removed ${deployment} from ${endpoint}\n${describe(e)}`);
      });
    });

  const traffic = program.command('traffic').description("an endpoint's traffic split");
  traffic
    .command('set <endpoint> <assignments...>')
    .description('set the split, e.g. blue=90 green=10 (integer percents summing to 100; deployments left out get 0)')
    .action(async (endpoint: string, assignments: string[], _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const weights = parseAssignments(assignments, 'split');
      await withBackend(g, async (b) => {
        const e = await b.endpoints.setTraffic(endpoint, weights);
        printResult(g, e, () => describe(e));
      });
    });

  const mirror = program.command('mirror').description('copies of live requests sent to a deployment, whose answers are compared and never returned');
  mirror
    .command('set <endpoint> <assignments...>')
    .description('mirror a share of live requests, e.g. green=20 (green=0 stops it)')
    .action(async (endpoint: string, assignments: string[], _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const m = parseAssignments(assignments, 'mirror shares');
      await withBackend(g, async (b) => {
        const e = await b.endpoints.setMirror(endpoint, m);
        printResult(g, e, () => describe(e));
      });
    });
}

function integer(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag} must be a whole number, got '${v}'`);
  return Number(v);
}
