import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { expiryOf } from '../../auth/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';

/** `--since 1h` (a duration back from now) or an ISO time. */
export function parseSince(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+[smhdw]$/.test(v)) return now - (expiryOf(v, now)! - now);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new FluxError('INVALID_PARAMETER_VALUE', `--since must be a duration back from now (30m, 24h, 7d) or a time such as 2026-12-01T10:00:00Z; got '${v}'`);
  return t;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the append-only log of state-changing API calls (admin)');
  audit
    .command('list')
    .description('list audit entries, oldest first')
    .option('--since <when>', 'a duration back from now (24h, 7d) or an ISO time')
    .option('--limit <n>', 'most entries to print', '100')
    .action(async (o: { since?: string; limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new FluxError('INVALID_PARAMETER_VALUE', '--limit must be an integer from 1 to 10000');
      const since = parseSince(o.since);
      await withBackend(g, async (b) => {
        const { entries } = await b.audit.list({ since, limit });
        printResult(g, entries, () =>
          renderTable(
            ['time', 'key', 'role', 'method', 'route', 'target', 'status', 'request id'],
            entries.map((e) => [formatTime(e.time), e.keyName ?? '-', e.role, e.method, e.route, e.target, String(e.status), e.requestId]),
          ),
        );
      });
    });
}
