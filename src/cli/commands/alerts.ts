import fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FluxError } from '../../core/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime, printResult, renderTable } from '../output.js';
import { collect } from './train.js';

const value = (v: number | null): string => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** `k=v` flags as labels. */
function labelFlags(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l);
    if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `--label must be name=value (such as endpoint=diabetes-prod), got '${l}'`, { field: '--label' });
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('alerts: rules on platform metrics, SLOs with burn-rate alerts, silences, synthetic checks');
  alerts
    .command('list')
    .description('alerts as they stand, firing first')
    .option('--status <status>', 'only firing, pending or inactive ones')
    .action(async (o: { status?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.status !== undefined && !['firing', 'pending', 'inactive'].includes(o.status)) throw new FluxError('INVALID_PARAMETER_VALUE', `--status must be firing, pending or inactive, got '${o.status}'`, { field: '--status' });
      await withBackend(g, async (b) => {
        const list = await b.alerts.listAlerts({ status: o.status as 'firing' | undefined });
        printResult(g, list, () =>
          list.length === 0
            ? 'no alerts have been evaluated yet (rules: fluxops alerts create --file <rule.yaml>)'
            : renderTable(
                ['alert', 'status', 'severity', 'value', 'since', 'labels', 'silenced by'],
                list.map((a) => [a.alert, a.status, a.severity, value(a.value), formatTime(a.status === 'firing' ? a.firingSince : a.status === 'pending' ? a.activeSince : a.resolvedAt), Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' '), a.silencedBy ?? '-']),
              ),
        );
      });
    });
  alerts
    .command('create')
    .description('create alert rules and SLOs from a YAML or JSON file: {rules: [{name, metric, op, threshold, for, severity, ...}], slos: [{name, endpoint, kind, objective, ...}], notify: {email: [...]}}')
    .requiredOption('--file <file>', 'the definitions')
    .action(async (o: { file: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      let doc: { rules?: unknown[]; slos?: unknown[]; notify?: { email?: string[] }; every?: string };
      try {
        doc = parseYaml(fs.readFileSync(o.file, 'utf8')) as typeof doc;
      } catch (e) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `cannot read --file ${o.file}: ${(e as Error).message}`, { field: '--file' });
      }
      if (typeof doc !== 'object' || doc === null || (doc.rules === undefined && doc.slos === undefined)) throw new FluxError('INVALID_PARAMETER_VALUE', `${o.file} must hold rules: [...] and/or slos: [...]`);
      await withBackend(g, async (b) => {
        const made: Array<{ kind: string; name: string }> = [];
        for (const rule of doc.rules ?? []) made.push(await b.alerts.createAlertRule({ rule, every: doc.every, notify: doc.notify }));
        for (const slo of doc.slos ?? []) made.push(await b.alerts.createSlo({ slo, every: doc.every, notify: doc.notify }));
        printResult(g, made, () => `created ${made.map((d) => `${d.kind} ${d.name}`).join(', ')}`);
      });
    });
  alerts
    .command('rules')
    .description('alert rules and SLOs')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.alerts.listAlertRules();
        printResult(g, list, () =>
          renderTable(
            ['name', 'kind', 'what', 'every', 'email'],
            list.map((d) => [d.name, d.kind, d.kind === 'rule' ? `${d.rule.metric.kind} ${d.rule.op} ${d.rule.threshold} for ${d.rule.for} (${d.rule.severity})` : `${d.slo.kind} ${d.slo.objective} on ${d.slo.endpoint}`, `${d.everyMs / 1000}s`, d.notify.email.join(', ') || '-']),
          ),
        );
      });
    });
  alerts
    .command('delete <name>')
    .description('delete an alert rule or SLO')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.alerts.deleteAlertRule(name);
        printResult(g, { deleted: name }, () => `deleted ${name}`);
      });
    });
  alerts
    .command('silence')
    .description("mute matching alerts' notifications for a while (they still change state)")
    .option('--rule <name>', 'alerts of this rule or SLO')
    .option('--label <name=value>', 'alerts with this label; repeatable', collect, [])
    .option('--duration <duration>', 'how long (such as 2h)', '1h')
    .requiredOption('--comment <text>', 'why')
    .action(async (o: { rule?: string; label: string[]; duration: string; comment: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const labels = labelFlags(o.label);
      await withBackend(g, async (b) => {
        const s = await b.alerts.createSilence({ matchers: { ...(o.rule !== undefined ? { rule: o.rule } : {}), ...(Object.keys(labels).length > 0 ? { labels } : {}) }, duration: o.duration, comment: o.comment });
        printResult(g, s, () => `silence ${s.id} until ${s.endsAt}: ${s.comment}`);
      });
    });
  alerts
    .command('silences')
    .description('silences, newest first')
    .option('--active', 'only those in force now')
    .action(async (o: { active?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.alerts.listSilences({ active: o.active === true });
        printResult(g, list, () => renderTable(['id', 'matchers', 'from', 'until', 'by', 'comment'], list.map((s) => [s.id, JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.createdBy, s.comment])));
      });
    });
  alerts
    .command('unsilence <id>')
    .description('end a silence now')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.alerts.expireSilence(id);
        printResult(g, { expired: id }, () => `silence ${id} ended`);
      });
    });
  const checks = alerts.command('checks').description('synthetic checks: a saved request sent to an endpoint on an interval');
  checks
    .command('create <name>')
    .description('create a synthetic check (its alert fires after --alert-after failures in a row)')
    .requiredOption('--endpoint <name>', 'the endpoint')
    .requiredOption('--body <json>', "the predict body, as JSON or @file")
    .option('--every <duration>', 'how often', '5m')
    .option('--timeout <duration>', 'how long one may take', '10s')
    .option('--expect-status <status>', 'the status that counts as success', '200')
    .option('--alert-after <n>', 'consecutive failures that fire the alert', '3')
    .option('--email <addresses>', 'comma-separated addresses mailed when it fires and resolves')
    .action(async (name: string, o: { endpoint: string; body: string; every: string; timeout: string; expectStatus: string; alertAfter: string; email?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      let body: unknown;
      try {
        body = JSON.parse(o.body.startsWith('@') ? fs.readFileSync(o.body.slice(1), 'utf8') : o.body);
      } catch (e) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `--body must be JSON or @file: ${(e as Error).message}`, { field: '--body' });
      }
      await withBackend(g, async (b) => {
        const c = await b.alerts.createSyntheticCheck({
          name,
          endpoint: o.endpoint,
          body,
          every: o.every,
          timeout: o.timeout,
          expectStatus: Number(o.expectStatus),
          alertAfter: Number(o.alertAfter),
          ...(o.email !== undefined ? { notify: { email: o.email.split(',').map((s) => s.trim()) } } : {}),
        });
        printResult(g, c, () => `created synthetic check ${c.name} on ${c.endpoint} every ${c.everyMs / 1000}s; alert synthetic-${c.name} fires after ${c.alertAfter} failures in a row`);
      });
    });
  checks
    .command('list')
    .description('synthetic checks and how they last went')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.alerts.listSyntheticChecks();
        printResult(g, list, () =>
          renderTable(['check', 'endpoint', 'every', 'last run', 'last status', 'ms', 'failing for', 'runs', 'failures'], list.map((c) => [c.name, c.endpoint, `${c.everyMs / 1000}s`, formatTime(c.lastRunAt), c.lastStatus ?? (c.lastError ?? '-'), c.lastMs === null ? '-' : c.lastMs.toFixed(1), c.consecutiveFailures, c.runs, c.failures])),
        );
      });
    });
  checks
    .command('delete <name>')
    .description('delete a synthetic check and its alert')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.alerts.deleteSyntheticCheck(name);
        printResult(g, { deleted: name }, () => `deleted synthetic check ${name}`);
      });
    });
}
