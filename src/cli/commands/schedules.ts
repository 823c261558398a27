import fs from 'node:fs';
import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import type { Firing, Schedule } from '../../schedules/index.js';
import { withBackend, type Backend, type GlobalOptions } from '../context.js';
import { printResult, renderKeyValues, renderTable } from '../output.js';
import { collect, parseParamFlags } from './train.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** A time in this machine's zone, with its offset: `2025-01-01 23:41 +01:00`. */
export function localTime(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const abs = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} ${off >= 0 ? '+' : '-'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A time in UTC: `2025-01-01 22:41Z`. */
export function utcTime(ms: number | null): string {
  return ms === null ? '-' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function stateOf(s: Schedule): string {
  return s.paused ? 'paused' : s.nextSlot === null ? 'done' : 'active';
}

function table(list: Schedule[]): string {
  return renderTable(
    ['schedule', 'cron', 'time zone', 'pipeline', 'overlap', 'catch-up', 'state', 'next (local)', 'next (UTC)'],
    list.map((s) => [s.name, s.cron, s.timezone, s.pipeline, s.overlap, s.catchUp, stateOf(s), s.paused ? '-' : localTime(s.nextSlot), s.paused ? '-' : utcTime(s.nextSlot)]),
  );
}

function describe(s: Schedule, firings?: Firing[]): string {
  const lines = [
    renderKeyValues([
      ['schedule', `${s.name} (${s.id})`],
      ['cron', `${s.cron} in ${s.timezone}`],
      ['pipeline', s.pipeline],
      ['params', Object.keys(s.params).length === 0 ? '-' : Object.entries(s.params).map(([k, v]) => `${k}=${String(v)}`).join(' ')],
      ['overlap', s.overlap],
      ['catch-up', s.catchUp],
      ['state', stateOf(s)],
      ['next firing', s.paused ? '- (paused: resume fires from the next slot after then)' : `${localTime(s.nextSlot)} (local) · ${utcTime(s.nextSlot)}`],
    ]),
  ];
  if (firings !== undefined) {
    lines.push(
      firings.length === 0
        ? 'no firings yet'
        : renderTable(['slot (UTC)', 'state', 'pipeline run', 'reason'], firings.map((f) => [utcTime(f.slot), f.state, f.pipelineRun ?? '-', f.reason ?? '-'])),
    );
  }
  return lines.join('\n');
}


function readSpec(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder; give the pipeline file (YAML)' : (code ?? (e as Error).message);
    throw new FluxError('INVALID_PARAMETER_VALUE', `--pipeline: cannot read ${file} (${why})`);
  }
}

export function registerSchedules(program: Command): void {
  const schedules = program.command('schedules').description('cron schedules that start a pipeline run at each slot (in a time zone; skip or queue overlaps; catch up none or the latest)');
  schedules
    .command('list')
    .description('every schedule, with its next firing in local time and UTC')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.schedules.listSchedules();
        printResult(g, list, () => (list.length === 0 ? 'no schedules yet: create one with fluxops schedules create NAME --pipeline FILE --cron "41 22 * * *"' : table(list)));
      });
    });
  schedules
    .command('create <name>')
    .description('start the pipeline of a file at the slots of a cron expression')
    .requiredOption('--pipeline <file>', 'the pipeline file (YAML); kept whole with the schedule')
    .requiredOption('--cron <expression>', "five fields: minute hour day-of-month month day-of-week, such as '41 22 * * *' (22:41 daily), or @daily, @hourly …")
    .option('--tz <zone>', 'the IANA time zone the expression is read in, such as Europe/Berlin', 'UTC')
    .option('--overlap <policy>', 'while the previous run still goes: skip the slot, or queue it (one at most)', 'skip')
    .option('--catch-up <policy>', 'after a downtime: none (fire no missed slot) or latest (fire the latest one)', 'none')
    .option('--param <name=value>', 'a parameter handed to each run (repeatable)', collect, [])
    .action(async (name: string, o: { pipeline: string; cron: string; tz: string; overlap: string; catchUp: string; param: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const pipelineSpec = readSpec(o.pipeline);
      const params = parseParamFlags(o.param);
      await withBackend(g, async (b) => {
        const s = await b.schedules.createSchedule({ name, cron: o.cron, timezone: o.tz, pipelineSpec, params, overlap: o.overlap as Schedule['overlap'], catchUp: o.catchUp as Schedule['catchUp'] });
        printResult(g, s, () => `created schedule ${s.name}\n${describe(s)}`);
      });
    });
  schedules
    .command('show <name>')
    .description('a schedule and its latest firings')
    .option('--limit <n>', 'firings to show (default 20)', '20')
    .action(async (name: string, o: { limit: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const s = await b.schedules.getSchedule(name);
        const firings = await b.schedules.scheduleFirings(s.id, { limit: Number(o.limit) });
        printResult(g, { ...s, firings }, () => describe(s, firings));
      });
    });
  const moves: Array<[string, string, (b: Backend, name: string) => Promise<Schedule>]> = [
    ['pause', 'stop firing; slots passing meanwhile never fire', (b, n) => b.schedules.pauseSchedule(n)],
    ['resume', 'fire again, from the next slot after now (no burst of the slots missed while paused)', (b, n) => b.schedules.resumeSchedule(n)],
  ];
  for (const [verb, description, run] of moves) {
    schedules
      .command(`${verb} <name>`)
      .description(description)
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        await withBackend(g, async (b) => {
          const s = await run(b, name);
          printResult(g, s, () => `schedule ${s.name} is ${stateOf(s)}${s.paused ? '' : `; next firing ${localTime(s.nextSlot)} (local) · ${utcTime(s.nextSlot)}`}`);
        });
      });
  }
  schedules
    .command('delete <name>')
    .description('delete a schedule and its firing history (runs it started are kept)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.schedules.deleteSchedule(name);
        printResult(g, { deleted: name }, () => `deleted schedule ${name}`);
      });
    });
}
