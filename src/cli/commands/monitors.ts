import fs from 'node:fs';
import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { grafanaDashboardJson, prometheusRulesYaml, type Monitor, type MonitorInput, type MonitorResult } from '../../monitoring/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { EXIT, formatTime, printResult, renderKeyValues, renderTable } from '../output.js';
import { collect } from './train.js';

interface MonitorFlags {
  endpoint?: string;
  deployment?: string;
  reference?: string;
  window?: string;
  every?: string;
  minRows?: string;
  maxRows?: string;
  driftShare?: string;
  column?: string[];
  ignore?: string;
  enabled?: boolean;
}

const num = (v: string, flag: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new FluxError('INVALID_PARAMETER_VALUE', `${flag} must be a number, got '${v}'`, { field: flag });
  return n;
};

/** `--column BMI=psi:0.2`, `--column Age=ks`, `--column Age=:0.01` → per-column options. */
function columnFlags(list: string[]): Record<string, { method?: string; threshold?: number }> {
  const out: Record<string, { method?: string; threshold?: number }> = {};
  for (const c of list) {
    const m = /^([^=]+)=([a-z]*)(?::(.+))?$/.exec(c);
    if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `--column must be column=method[:threshold] (such as BMI=psi:0.2 or Age=:0.01), got '${c}'`, { field: '--column' });
    out[m[1]!] = { ...(m[2] ? { method: m[2] } : {}), ...(m[3] !== undefined ? { threshold: num(m[3], '--column threshold') } : {}) };
  }
  return out;
}

function settingsOf(o: MonitorFlags): Partial<MonitorInput> {
  return {
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
    ...(o.deployment !== undefined ? { deployment: o.deployment === '' ? null : o.deployment } : {}),
    ...(o.reference !== undefined ? { reference: o.reference === '' ? null : o.reference } : {}),
    ...(o.window !== undefined ? { window: o.window } : {}),
    ...(o.every !== undefined ? { every: o.every === '' || o.every === 'never' ? null : o.every } : {}),
    ...(o.minRows !== undefined ? { minRows: num(o.minRows, '--min-rows') } : {}),
    ...(o.maxRows !== undefined ? { maxRows: num(o.maxRows, '--max-rows') } : {}),
    ...(o.driftShare !== undefined ? { driftShare: num(o.driftShare, '--drift-share') } : {}),
    ...(o.column !== undefined && o.column.length > 0 ? { columns: columnFlags(o.column) } : {}),
    ...(o.ignore !== undefined ? { ignore: o.ignore.split(',').map((s) => s.trim()).filter((s) => s !== '') } : {}),
    ...(o.enabled !== undefined ? { enabled: o.enabled } : {}),
  };
}

const duration = (ms: number | null): string => (ms === null ? 'on demand' : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

function describeMonitor(m: Monitor): string {
  return renderKeyValues([
    ['monitor', m.name],
    ['endpoint', m.deployment === null ? m.endpoint : `${m.endpoint} (deployment ${m.deployment})`],
    ['reference', m.reference ?? 'the version that answered most of the window'],
    ['window', duration(m.windowMs)],
    ['every', m.enabled ? duration(m.everyMs) : 'disabled'],
    ['next check', formatTime(m.nextRunAt)],
    ['rows', `${m.minRows} to ${m.maxRows}`],
    ['dataset drift', `when ≥ ${m.driftShare * 100} % of the columns drift`],
    ...(Object.keys(m.columns).length > 0 ? ([['columns', m.columns]] as Array<[string, unknown]>) : []),
    ...(m.ignore.length > 0 ? ([['ignored', m.ignore.join(', ')]] as Array<[string, unknown]>) : []),
  ]);
}

const fmt = (x: number | undefined): string => (x === undefined ? '-' : !Number.isFinite(x) ? String(x) : Math.abs(x) >= 1000 || x === 0 ? String(Math.round(x * 100) / 100) : x.toPrecision(4));

/** A result as people read it: the verdict, then one line per column, the predictions, the performance. */
export function describeResult(r: MonitorResult): string {
  const head =
    r.status === 'drift'
      ? `DRIFT on ${r.endpoint}: ${r.dataset?.drifted ? `dataset drifted (${r.dataset.driftedColumns.length} of ${r.dataset.columnCount} columns: ${r.dataset.driftedColumns.join(', ')})` : 'the dataset did not drift'}${r.predictionDrift ? '; predictions drifted' : ''}`
      : r.status === 'ok'
        ? `no drift on ${r.endpoint} (${r.dataset?.driftedColumns.length ?? 0} of ${r.dataset?.columnCount ?? 0} columns drifted${r.dataset?.driftedColumns.length ? `: ${r.dataset.driftedColumns.join(', ')}` : ''})`
        : `${r.status.replace('_', ' ')}: ${r.message ?? ''}`;
  const lines = [
    `${head}`,
    `result ${r.seq} at ${formatTime(r.time)}, window ${formatTime(r.windowStart)} → ${formatTime(r.windowEnd)}, ${r.rows} rows${r.reference ? `, against ${r.reference.model}/${r.reference.version} (${r.reference.source})` : ''}`,
  ];
  const cols = Object.entries(r.columns);
  if (cols.length > 0) {
    lines.push(
      renderTable(
        ['column', 'method', 'statistic', 'p-value', 'threshold', 'drifted', 'PSI', 'PSI band'],
        cols.map(([name, c]) => [name, c.method, fmt(c.statistic), fmt(c.pValue), fmt(c.threshold), c.drifted ? 'yes' : 'no', fmt(c.psi), c.psiBand]),
      ),
    );
  }
  const p = Object.entries(r.predictions).filter(([, v]) => v !== undefined);
  if (p.length > 0) lines.push(renderTable(['predictions', 'method', 'statistic', 'threshold', 'drifted', 'PSI'], p.map(([k, c]) => [k, c.method, fmt(c.statistic), fmt(c.threshold), c.drifted ? 'yes' : 'no', fmt(c.psi)])));
  const perf = r.performance;
  if (perf?.estimated) {
    const e = perf.estimated;
    const real = perf.realised;
    lines.push(
      renderTable(
        ['performance', 'accuracy', 'f1', 'roc auc', 'rows'],
        [
          [`estimated (CBPE${perf.calibrated ? ', calibrated' : ''})`, fmt(e.accuracy), fmt(e.f1), fmt(e.rocAuc), e.rows],
          ...(real ? [['realised (labelled rows)', fmt(real.accuracy), fmt(real.f1), fmt(real.rocAuc), real.rows] as Array<string | number>] : []),
        ],
      ),
    );
  }
  if (r.message !== null && (r.status === 'ok' || r.status === 'drift')) lines.push(r.message);
  return lines.join('\n');
}

function addSettingFlags(c: Command, creating: boolean): Command {
  return c
    .option('--deployment <name>', "only this deployment's traffic ('' for the whole endpoint)")
    .option('--reference <model/version>', "compare with this version ('' for the version that answered most of the window)")
    .option('--window <duration>', `how far back a check looks${creating ? ' (default 1h)' : ''}`)
    .option('--every <duration>', `check on this interval, at least 10s ('never' for on demand only${creating ? ', the default' : ''})`)
    .option('--min-rows <n>', `fewest logged rows a window needs${creating ? ' (default 100)' : ''}`)
    .option('--max-rows <n>', `most rows a window reads, newest first${creating ? ' (default 50000)' : ''}`)
    .option('--drift-share <share>', `the dataset drifts when this share of its columns does${creating ? ' (default 0.5)' : ''}`)
    .option('--column <column=method:threshold>', 'per-column method (ks, wasserstein, psi, chisquare, jensenshannon) and threshold; repeatable', collect, [])
    .option('--ignore <columns>', 'comma-separated columns left out');
}

export function registerMonitors(program: Command): void {
  const monitors = program.command('monitors').description('drift monitors: compare logged traffic with the training data, on a schedule or on demand');
  addSettingFlags(monitors.command('create <name>').description('create a drift monitor on an endpoint').requiredOption('--endpoint <name>', 'the endpoint whose logged traffic is checked'), true).action(
    async (name: string, o: MonitorFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const m = await b.monitors.createMonitor({ name, ...settingsOf(o) } as MonitorInput);
        printResult(g, m, () => `created monitor ${m.name} on ${m.endpoint}; check it now with: fluxops monitors run ${m.name}\n${describeMonitor(m)}`);
      });
    },
  );
  addSettingFlags(monitors.command('update <name>').description("change a monitor's settings").option('--endpoint <name>', 'watch another endpoint'), false)
    .option('--enable', 'run scheduled checks')
    .option('--disable', 'stop scheduled checks (on-demand checks still run)')
    .action(async (name: string, o: MonitorFlags & { enable?: boolean; disable?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.enable && o.disable) throw new FluxError('INVALID_PARAMETER_VALUE', 'give --enable or --disable, not both');
      await withBackend(g, async (b) => {
        const m = await b.monitors.updateMonitor(name, settingsOf({ ...o, ...(o.enable ? { enabled: true } : o.disable ? { enabled: false } : {}) }));
        printResult(g, m, () => describeMonitor(m));
      });
    });
  monitors
    .command('list')
    .description('list monitors with their last verdict')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.monitors.listMonitors();
        const last = await Promise.all(list.map(async (m) => (await b.monitors.monitorResults(m.name, { limit: 1 }))[0]));
        printResult(g, list, () =>
          list.length === 0
            ? 'no monitors yet: fluxops monitors create <name> --endpoint <endpoint>'
            : renderTable(
                ['monitor', 'endpoint', 'window', 'every', 'last check', 'status', 'drifted columns'],
                list.map((m, i) => {
                  const r = last[i];
                  return [m.name, m.endpoint, duration(m.windowMs), m.enabled ? duration(m.everyMs) : 'disabled', formatTime(r?.time), r?.status ?? '-', r?.dataset ? `${r.dataset.driftedColumns.length}/${r.dataset.columnCount}` : '-'];
                }),
              ),
        );
      });
    });
  monitors
    .command('show <name>')
    .description('a monitor, its settings and its last result')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const m = await b.monitors.getMonitor(name);
        const [last] = await b.monitors.monitorResults(name, { limit: 1 });
        printResult(g, { ...m, last: last ?? null }, () => `${describeMonitor(m)}\n\n${last === undefined ? `not checked yet: fluxops monitors run ${m.name}` : describeResult(last)}`);
      });
    });
  monitors
    .command('run <name>')
    .description('check the monitor now (recorded as a result; drift emits drift.detected)')
    .option('--fail-on-drift', 'exit with 1 when drift is detected (for CI)')
    .action(async (name: string, o: { failOnDrift?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const r = await b.monitors.runMonitor(name);
        printResult(g, r, () => describeResult(r));
        if (o.failOnDrift && r.status === 'drift') process.exitCode = EXIT.failure;
      });
    });
  monitors
    .command('results <name>')
    .description("a monitor's results over time, newest first")
    .option('--limit <n>', 'how many', '50')
    .option('--since <time>', 'an ISO time or a duration back from now (such as 24h)')
    .action(async (name: string, o: { limit: string; since?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.monitors.monitorResults(name, { limit: num(o.limit, '--limit'), since: o.since });
        printResult(g, list, () =>
          renderTable(
            ['result', 'time', 'rows', 'status', 'drift share', 'drifted columns', 'prediction drift', 'est. accuracy', 'realised accuracy'],
            list.map((r) => [r.seq, formatTime(r.time), r.rows, r.status, r.dataset ? fmt(r.dataset.driftedShare) : '-', r.dataset?.driftedColumns.join(', ') || '-', r.predictionDrift ? 'yes' : 'no', fmt(r.performance?.estimated?.accuracy), fmt(r.performance?.realised?.accuracy ?? undefined)]),
          ),
        );
      });
    });
  monitors
    .command('delete <name>')
    .description('delete a monitor and its results')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.monitors.deleteMonitor(name);
        printResult(g, { deleted: name }, () => `deleted monitor ${name}`);
      });
    });
  monitors
    .command('profile <model-version>')
    .description("store a version's reference profile computed from a dataset (for versions registered through MLflow, or to re-base one)")
    .requiredOption('--data <file>', 'a CSV of rows like the training data')
    .option('--target <column>', 'the label column: with it, held-out scores and labels are kept for performance estimation')
    .action(async (ref: string, o: { data: string; target?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const m = /^(.+)\/(\d+)$/.exec(ref);
      if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `name the version as model/version (such as diabetes/3), got '${ref}'`);
      let csv: string;
      try {
        csv = fs.readFileSync(o.data, 'utf8');
      } catch (e) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `cannot read --data ${o.data}: ${(e as Error).message}`, { field: '--data' });
      }
      await withBackend(g, async (b) => {
        const r = await b.monitors.putProfileCsv(m[1]!, m[2]!, csv, { target: o.target, source: o.data });
        printResult(g, r, () => `stored the reference profile of ${r.model}/${r.version} from ${o.data}: ${r.rows} rows, columns ${r.columns.join(', ')}`);
      });
    });
  monitors
    .command('export <kind>')
    .description('the Prometheus alerting rules (prometheus) or the Grafana dashboard (grafana) for teams that run their own stack')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((kind: string, o: { out?: string }) => {
      if (kind !== 'prometheus' && kind !== 'grafana') throw new FluxError('INVALID_PARAMETER_VALUE', `export prometheus or grafana, not '${kind}'`);
      const text = kind === 'prometheus' ? prometheusRulesYaml() : grafanaDashboardJson();
      if (o.out === undefined) process.stdout.write(text);
      else {
        fs.writeFileSync(o.out, text);
        process.stderr.write(`wrote ${o.out}\n`);
      }
    });
}
