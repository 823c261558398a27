import fs from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';

export function registerInferences(program: Command): void {
  const inferences = program.command('inferences').description("an endpoint's logged predictions: list, export a window, attach labels");
  inferences
    .command('list')
    .description('logged requests, newest first')
    .requiredOption('--endpoint <name>', 'the endpoint')
    .option('--deployment <name>', 'only this deployment')
    .option('--since <time>', 'an ISO time, ms since the epoch, or a duration back from now (15m, 2h, 7d)')
    .option('--until <time>', 'as --since')
    .option('--limit <n>', 'how many', '20')
    .action(async (o: { endpoint: string; deployment?: string; since?: string; until?: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const limit = Number(o.limit);
      if (!Number.isInteger(limit)) throw new FluxError('INVALID_PARAMETER_VALUE', `--limit must be a whole number, got '${o.limit}'`, { field: '--limit' });
      await withBackend(g, async (b) => {
        const page = await b.inferences.listInferences({ endpoint: o.endpoint, deployment: o.deployment, since: o.since, until: o.until, limit });
        printResult(g, page, () =>
          page.inferences.length === 0
            ? `no logged requests on ${o.endpoint}${o.since ? ` since ${o.since}` : ''}`
            : renderTable(
                ['time', 'request id', 'deployment', 'version', 'status', 'ms', 'rows', 'predictions'],
                page.inferences.map((r) => [formatTime(r.time), r.requestId, r.deployment, r.version ?? '-', r.status, r.latencyMs.toFixed(2), r.rows, r.outputs ? r.outputs.predictions.slice(0, 5).join(' ') + (r.outputs.predictions.length > 5 ? ' …' : '') : (r.error ?? '')]),
              ),
        );
      });
    });
  inferences
    .command('export')
    .description('stream a window of logged requests, oldest first, as CSV (one row per predicted row) or JSON Lines (one request per line)')
    .requiredOption('--endpoint <name>', 'the endpoint')
    .option('--deployment <name>', 'only this deployment')
    .option('--since <time>', 'an ISO time, ms since the epoch, or a duration back from now (15m, 2h, 7d)')
    .option('--until <time>', 'as --since')
    .option('--format <format>', 'csv or jsonl', 'jsonl')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (o: { endpoint: string; deployment?: string; since?: string; until?: string; format: string; out?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.format !== 'csv' && o.format !== 'jsonl') throw new FluxError('INVALID_PARAMETER_VALUE', `--format must be csv or jsonl, got '${o.format}'`, { field: '--format' });
      await withBackend(g, async (b) => {
        const out = o.out === undefined ? process.stdout : fs.createWriteStream(o.out);
        let bytes = 0;
        for await (const chunk of b.inferences.exportInferences({ endpoint: o.endpoint, deployment: o.deployment, since: o.since, until: o.until, format: o.format as 'csv' | 'jsonl' })) {
          bytes += chunk.length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (out !== process.stdout) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`wrote ${o.out} (${bytes} bytes)\n`);
        }
      });
    });
  inferences
    .command('label')
    .description('attach true values to logged requests: a CSV file (request_id,label[,row]) or one --request-id with --label')
    .requiredOption('--endpoint <name>', 'the endpoint')
    .option('--file <csv>', 'a CSV with request_id and label columns (and row for multi-row requests)')
    .option('--request-id <id>', 'one request')
    .option('--label <value>', 'its true value')
    .option('--row <n>', 'the row of the request (default 0)')
    .action(async (o: { endpoint: string; file?: string; requestId?: string; label?: string; row?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if ((o.file === undefined) === (o.requestId === undefined)) throw new FluxError('INVALID_PARAMETER_VALUE', 'give --file <csv>, or --request-id with --label');
      let labels: string | Array<{ request_id: string; row?: number; label: number | string }>;
      if (o.file !== undefined) {
        try {
          labels = fs.readFileSync(o.file, 'utf8');
        } catch (e) {
          throw new FluxError('INVALID_PARAMETER_VALUE', `cannot read --file ${o.file}: ${(e as Error).message}`, { field: '--file' });
        }
      } else {
        if (o.label === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', '--request-id needs --label');
        const value = o.label !== '' && Number.isFinite(Number(o.label)) ? Number(o.label) : o.label;
        labels = [{ request_id: o.requestId!, ...(o.row !== undefined ? { row: Number(o.row) } : {}), label: value }];
      }
      await withBackend(g, async (b) => {
        const r = await b.inferences.putLabels(o.endpoint, labels);
        printResult(g, r, () => `attached ${r.written} labels on ${o.endpoint} (${r.matched} name a logged request${r.written > r.matched ? `; ${r.written - r.matched} were kept for requests not logged (yet)` : ''})`);
      });
    });
}
