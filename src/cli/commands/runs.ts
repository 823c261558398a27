import type { Command } from 'commander';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatNumber, formatTime, printResult, renderKeyValues, renderTable } from '../output.js';
import { collect } from './train.js';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('list and inspect tracked runs');
  runs
    .command('list')
    .description('list runs, newest first (filter with MLflow syntax: "metrics.f1 > 0.6 and params.solver = \'lbfgs\'")')
    .option('--experiment <name-or-id>', 'experiment name or id (default: all active experiments)')
    .option('--filter <expr>', 'search filter')
    .option('--order-by <clause>', 'order, for example "metrics.f1 desc" (repeatable)', collect, [])
    .option('--max-results <n>', 'at most this many runs', '50')
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (o: { experiment?: string; filter?: string; orderBy: string[]; maxResults: string; pageToken?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        let experimentIds: string[];
        if (o.experiment === undefined) experimentIds = (await b.tracking.searchExperiments({ maxResults: 1000 })).items.map((e) => e.experimentId);
        else if (/^\d+$/.test(o.experiment)) experimentIds = [o.experiment];
        else experimentIds = [(await b.tracking.getExperimentByName(o.experiment)).experimentId];
        const page = await b.tracking.searchRuns({ experimentIds, filter: o.filter, orderBy: o.orderBy, maxResults: Number(o.maxResults), pageToken: o.pageToken });
        printResult(g, page, () => {
          const metricKeys = [...new Set(page.items.flatMap((r) => r.data.metrics.map((m) => m.key)))].slice(0, 4);
          const table = renderTable(
            ['run id', 'name', 'status', 'started', ...metricKeys],
            page.items.map((r) => [
              r.info.runId,
              r.info.runName,
              r.info.status,
              formatTime(r.info.startTime),
              ...metricKeys.map((k) => {
                const m = r.data.metrics.find((x) => x.key === k);
                return m ? formatNumber(m.value) : '';
              }),
            ]),
          );
          return page.nextPageToken ? `${table}\nmore: --page-token ${page.nextPageToken}` : table;
        });
      });
    });
  runs
    .command('show <runId>')
    .description('show one run: info, params, metrics, tags, datasets and artifacts')
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const run = await b.tracking.getRun(runId);
        const artifacts = await b.tracking.listArtifacts(runId, '');
        printResult(g, { ...run, artifacts }, () =>
          [
            renderKeyValues([
              ['run', run.info.runId],
              ['name', run.info.runName],
              ['experiment', run.info.experimentId],
              ['status', run.info.status],
              ['started', formatTime(run.info.startTime)],
              ['ended', formatTime(run.info.endTime)],
              ['source', run.info.sourceName || '-'],
              ['git commit', run.info.sourceVersion || '-'],
              ['artifact uri', run.info.artifactUri],
            ]),
            '\nparams',
            renderTable(['key', 'value'], Object.entries(run.data.params)),
            '\nmetrics (latest)',
            renderTable(['key', 'value', 'step'], run.data.metrics.map((m) => [m.key, formatNumber(m.value), m.step])),
            '\ntags',
            renderTable(['key', 'value'], Object.entries(run.data.tags)),
            '\ndatasets',
            renderTable(['name', 'digest', 'context', 'source'], run.inputs.map((d) => [d.name, d.digest, d.context, d.source])),
            '\nartifacts',
            renderTable(['path', 'size'], artifacts.map((a) => [a.isDir ? `${a.path}/` : a.path, a.size ?? ''])),
          ].join('\n'),
        );
      });
    });
}
