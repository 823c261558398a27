/**
 * A worker thread that is one "server" of the schedule tests: its own platform (its own SQLite
 * connection or Postgres pool) over the test's database, and a Scheduler whose clock the test
 * sets before each tick. Its target records every start; see schedule-workers.ts.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../src/logging/index.js';
import { openPlatform } from '../../src/platform.js';
import type { ScheduleTarget } from '../../src/schedules/index.js';
import type { ScheduleWorkerConfig, ScheduleWorkerReply, ScheduleWorkerRequest, StartCall } from './schedule-workers.js';

const config = workerData as ScheduleWorkerConfig;
const port = parentPort!;
const platform = await openPlatform({ home: config.home, databaseUrl: config.databaseUrl, artifactRoot: path.join(config.home, 'artifacts') }, { logger: createLogger({ level: 'silent' }) });
let now = 0;
const starts: StartCall[] = [];
const target: ScheduleTarget = {
  start(schedule, slot) {
    const run = `${config.serverId}-run-${starts.length + 1}`;
    starts.push({ schedule: schedule.name, slot, run });
    return Promise.resolve(run);
  },
  isActive: () => Promise.resolve(false),
};
const scheduler = platform.schedules.scheduler(target, { clock: { now: () => now }, serverId: config.serverId });

port.on('message', (m: ScheduleWorkerRequest) => {
  const reply = (r: ScheduleWorkerReply): void => port.postMessage(r);
  if (m.type === 'close') {
    void platform.close().then(() => port.close());
    return;
  }
  if (m.type === 'starts') return reply({ id: m.id, ok: true, starts });
  now = m.now;
  scheduler.tick().then(
    () => reply({ id: m.id, ok: true, starts: [] }),
    (e: unknown) => reply({ id: m.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
  );
});
port.postMessage('ready');
