import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import type { DomainEvent } from '../../events/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { formatTime } from '../output.js';
import { collect } from './train.js';

/** How long one read waits for new events with --follow; short enough to notice Ctrl-C promptly over HTTP too. */
const FOLLOW_WAIT_MS = 25_000;
const PAGE = 500;

export function registerEvents(program: Command): void {
  const events = program.command('events').description('domain events (runs, models, versions, aliases, keys) in commit order');
  events
    .command('tail')
    .description('print events after a sequence number; --follow keeps printing new ones as they commit (--json: one JSON object per line)')
    .option('--after <seq>', 'start after this event sequence number (0: from the first event)', '0')
    .option('--type <type>', 'only events of this type, e.g. model.alias.changed (repeatable)', collect, [])
    .option('--follow', 'keep waiting for new events until interrupted')
    .action(async (o: { after: string; type: string[]; follow?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      let after = Number(o.after);
      if (!Number.isSafeInteger(after) || after < 0) throw new FluxError('INVALID_PARAMETER_VALUE', `--after must be a non-negative integer, got '${o.after}'`);
      const types = o.type.flatMap((t) => t.split(',')).filter((t) => t !== '');
      await withBackend(g, async (b) => {
        // Locally, following needs this process's dispatcher (and LISTEN on Postgres) to wake the waits.
        if (o.follow && b.platform !== undefined) await b.platform.start();
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          for (;;) {
            let page;
            try {
              page = await b.events.readEvents({ after, limit: PAGE, types, waitMs: o.follow ? FOLLOW_WAIT_MS : 0, signal: stop.signal });
            } catch (e) {
              if (stop.signal.aborted) break;
              throw e;
            }
            for (const e of page.events) process.stdout.write(`${g.json ? JSON.stringify(e) : formatEvent(e)}\n`);
            after = page.nextAfter;
            if (stop.signal.aborted) break;
            if (!o.follow && page.events.length < PAGE) break;
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
    });
}

/** One line per event: seq, time, type, what it is about, and the rest of its payload. */
export function formatEvent(e: DomainEvent): string {
  const p = e.payload as unknown as Record<string, unknown>;
  let subject: string;
  switch (e.type) {
    case 'model.alias.changed':
      subject = `${e.payload.model}@${e.payload.alias} ${e.payload.previous_version ?? '-'} → ${e.payload.version ?? '(deleted)'}`;
      break;
    case 'model.version.created':
    case 'model.version.deleted':
      subject = `${e.payload.model} v${e.payload.version}`;
      break;
    case 'run.finished':
      subject = `run ${e.payload.run_id} ${e.payload.status}`;
      break;
    default:
      subject = Object.values(p)
        .filter((v) => typeof v === 'string' && v !== '')
        .join(' ');
  }
  return `${String(e.seq).padStart(6)}  ${formatTime(e.time)}  ${e.type.padEnd(22)} ${subject}${e.actor ? `  (by ${e.actor})` : ''}`;
}
