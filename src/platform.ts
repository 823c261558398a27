import { AuditLog, KeyService, KyselyAuditStore, KyselyKeyStore } from './auth/index.js';
import { Lifecycle, resolveConfig, type ConfigInput, type FluxConfig } from './core/index.js';
import { createLogger, type Logger } from './logging/index.js';
import { EndpointService, KyselyEndpointStore } from './endpoints/index.js';
import { KyselyRolloutStore, RolloutService } from './rollouts/index.js';
import { EventBus, EventDispatcher, EventLog, PgListener, outboxFor } from './events/index.js';
import { KyselyLoggedModelStore, LoggedModelService } from './logged-models/index.js';
import { inspectModelFolder } from './models/index.js';
import { KyselyRegistryStore, RegistryService } from './registry/index.js';
import { ArtifactUris, openArtifactStore, type ArtifactStore } from './storage/artifacts/index.js';
import path from 'node:path';
import { createFolder } from './storage/fs/index.js';
import { describeDatabaseError, migrateToLatest, openDatabase, type MetadataDb } from './storage/db/index.js';
import { KyselyTrackingStore, TrackingService } from './tracking/index.js';
import { KyselyWebhookStore, WebhookDeliverer, WebhookService } from './webhooks/index.js';
import { openJobQueue, type JobQueue } from './jobs/index.js';
import { KyselyPipelineStore, PipelineService, PipelineTriggerer, PipelineTriggers, SweepStore, pipelineScheduleTarget } from './pipelines/index.js';
import { AlertService, InferenceService, KyselyAlertStore, KyselyInferenceStore, KyselyMonitorStore, MonitorService, PlatformMetricSource, type InferenceStore } from './monitoring/index.js';
import { KyselyScheduleStore, ScheduleService, type Scheduler, type SchedulerOptions, type ScheduleTarget } from './schedules/index.js';

/** The domain events of one instance: the outbox read by cursor, and the in-process subscribers. */
export interface PlatformEvents {
  log: EventLog;
  bus: EventBus;
  dispatcher: EventDispatcher;
  /** The LISTEN connection on Postgres (unless disabled); undefined on SQLite. */
  listener: PgListener | undefined;
}

/** Every service of one FluxOps instance, wired over one metadata store and one artifact store. */
export interface Platform {
  config: FluxConfig;
  db: MetadataDb;
  artifacts: ArtifactStore;
  /** The artifacts mode's URIs for store paths, and store paths for URIs (either mode's). */
  artifactUris: ArtifactUris;
  tracking: TrackingService;
  registry: RegistryService;
  /** MLflow 3's logged models, which registry versions can be created from. */
  loggedModels: LoggedModelService;
  keys: KeyService;
  /** Endpoints, their deployments, traffic splits and mirrors. */
  endpoints: EndpointService;
  /** Canary and blue/green rollouts of a deployment on an endpoint. */
  rollouts: RolloutService;
  /** The append-only record of state-changing API calls. */
  audit: AuditLog;
  /** Webhooks: subscriptions to events, delivered signed and retried by `webhookDeliverer`. */
  webhooks: WebhookService;
  /** Fans events out to webhooks and sends the deliveries; in the lifecycle after the dispatcher. */
  webhookDeliverer: WebhookDeliverer;
  /** Cron schedules that start pipeline runs (create, list, pause, resume, delete). */
  schedules: ScheduleService;
  /** The component firing the schedules, in the lifecycle when a schedule target was given; undefined otherwise. */
  scheduler: Scheduler | undefined;
  events: PlatformEvents;
  /** The inference table: logged predictions, labels, export, retention. */
  inferences: InferenceService;
  /** Its store, which servers' inference logs write to. */
  inferenceStore: InferenceStore;
  /** Drift monitors and their results; scheduled checks run in every process whose lifecycle runs (one process takes each). */
  monitors: MonitorService;
  /** Alert rules, SLOs, silences and synthetic checks; servers evaluate them (`alerts.component`). */
  alerts: AlertService;
  /** Pipeline runs: start, advance, approvals, cancel, retry (their steps run on job workers). */
  pipelines: PipelineService;
  /** Registered pipelines' event triggers (`on:`), fired by every process whose lifecycle runs. */
  pipelineTriggers: PipelineTriggers;
  /** Hyperparameter sweeps (the `sweep` step's state) and their trials. */
  sweeps: SweepStore;
  /** Tells this process's job workers to look at the queue now (a job was queued here). */
  onJobQueued(wake: () => void): void;
  /** Wakes this process's job workers (a job was just queued here). */
  wakeJobs(): void;
  /**
   * The job queue of this store (embedded on SQLite, pg-boss on Postgres), opened and started on
   * first use, since most commands never need it; closed with the platform.
   */
  jobs(): Promise<JobQueue>;
  /** The background parts (event dispatcher, listener, and what servers add); `start()` runs them. */
  lifecycle: Lifecycle;
  /** Starts the background parts not yet started. Commands that only read or write need not call it. */
  start(): Promise<void>;
  /** Stops the background parts (newest first, flushing events), then closes the store. */
  close(): Promise<void>;
}

export interface PlatformOptions {
  logger?: Logger | undefined;
  /**
   * What schedules start runs on (the pipeline engine). With one, a `Scheduler` is added to the
   * lifecycle and fires the schedules once the platform starts; without, schedules are only stored.
   */
  scheduleTarget?: ScheduleTarget | null | undefined;
  /** The scheduler's tick, grace window, claim timeout and clock (defaults: 1 s, 60 s, 60 s, the system clock). */
  scheduler?: Omit<SchedulerOptions, 'log'> | undefined;
}

/** The composition root: opens the stores named by the config, migrates, and builds the services. */
export async function openPlatform(input: ConfigInput = {}, opts: PlatformOptions = {}): Promise<Platform> {
  const config = resolveConfig(input);
  const logger = opts.logger ?? createLogger({}, true);
  // Made here, before any store writes under it, so a bad home is named as the home.
  if (usesHome(config)) createFolder(config.home, 'the FluxOps home');
  // The artifact root is checked next (a malformed root, a missing bucket or container), so a
  // server that cannot store artifacts refuses to start before it touches the database.
  const artifacts = openArtifactStore(config.artifactRoot);
  await artifacts.verify();
  const db = openDatabase(config.databaseUrl, config.database);
  try {
    // The first statement is where Postgres turns out unreachable, refusing the login, or absent.
    await migrateToLatest(db);
  } catch (e) {
    await db.close();
    throw describeDatabaseError(e, db.location);
  }
  // The artifacts mode decides the scheme of the locations new experiments, runs and logged models get.
  const artifactUris = new ArtifactUris(artifacts.uri, config.artifactsMode);
  const tracking = new TrackingService(new KyselyTrackingStore(db, { groupCommit: config.groupCommit }), artifacts, artifactUris);
  const loggedModels = new LoggedModelService(new KyselyLoggedModelStore(db), tracking, artifacts, artifactUris);
  const registry = new RegistryService(new KyselyRegistryStore(db), tracking, artifacts, (loc) => inspectModelFolder(artifacts, loc), loggedModels.lookup(), artifactUris);
  const keys = new KeyService(new KyselyKeyStore(db));
  const endpoints = new EndpointService(new KyselyEndpointStore(db), registry);
  const rollouts = new RolloutService(new KyselyRolloutStore(db), endpoints);
  const inferenceStore = new KyselyInferenceStore(db);
  const inferences = new InferenceService(inferenceStore, endpoints);
  const monitors = new MonitorService(new KyselyMonitorStore(db), inferences, registry, endpoints);
  const alertStore = new KyselyAlertStore(db);
  const alerts = new AlertService(alertStore, new PlatformMetricSource(inferenceStore, monitors, alertStore, endpoints), endpoints, { smtpUrl: config.smtp.url, smtpFrom: config.smtp.from, log: logger });
  const audit = new AuditLog(new KyselyAuditStore(db, { groupCommit: config.groupCommit }));
  let jobs: Promise<JobQueue> | undefined;
  const wakers = new Set<() => void>();
  const openJobs = (): Promise<JobQueue> =>
    (jobs ??= (async () => {
      const q = await openJobQueue(db, { databaseUrl: config.databaseUrl, onError: (e) => logger.warn({ err: e }, 'job queue error') });
      await q.start();
      return q;
    })());
  const pipelines = new PipelineService(new KyselyPipelineStore(db), openJobs, () => wakers.forEach((w) => w()));
  const schedules = new ScheduleService(new KyselyScheduleStore(db), { clock: opts.scheduler?.clock, validateSpec: (text) => pipelines.validate(text) });

  const bus = new EventBus(logger);
  const log = new EventLog(db, bus);
  const dispatcher = new EventDispatcher(log, bus, outboxFor(db), { pollMs: config.eventsPollMs }, logger);
  const listener = db.dialect === 'postgres' && config.eventsListen ? new PgListener(config.databaseUrl, () => dispatcher.wake(), logger) : undefined;
  const lifecycle = new Lifecycle(logger);
  // The dispatcher first: it takes its cursor before anything that subscribes reads the state.
  lifecycle.add(dispatcher);
  if (listener !== undefined) lifecycle.add(listener);
  const webhookStore = new KyselyWebhookStore(db);
  const webhooks = new WebhookService(webhookStore, config.webhooks);
  // After the dispatcher (whose bus it hears) and stopped before it.
  const webhookDeliverer = new WebhookDeliverer(webhookStore, bus, log, config.webhooks, logger);
  lifecycle.add(webhookDeliverer);
  // Schedules start pipeline runs; any process that starts its lifecycle (servers, workers) fires them, once per slot.
  const scheduler = opts.scheduleTarget === null ? undefined : schedules.scheduler(opts.scheduleTarget ?? pipelineScheduleTarget(pipelines), { ...opts.scheduler, log: logger });
  if (scheduler !== undefined) lifecycle.add(scheduler);
  const pipelineTriggers = new PipelineTriggers(db, () => log.latestSeq());
  lifecycle.add(new PipelineTriggerer(pipelineTriggers, pipelines, bus, log, logger));
  lifecycle.add(monitors.scheduler(logger, config.monitorTickMs));

  let closing: Promise<void> | undefined;
  return {
    config,
    db,
    artifacts,
    artifactUris,
    tracking,
    registry,
    loggedModels,
    keys,
    endpoints,
    rollouts,
    audit,
    webhooks,
    webhookDeliverer,
    schedules,
    scheduler,
    events: { log, bus, dispatcher, listener },
    inferences,
    inferenceStore,
    monitors,
    alerts,
    lifecycle,
    jobs: openJobs,
    pipelines,
    pipelineTriggers,
    sweeps: new SweepStore(db),
    onJobQueued: (wake) => void wakers.add(wake),
    wakeJobs: () => wakers.forEach((w) => w()),
    start: () => lifecycle.start(),
    close: () =>
      (closing ??= (async () => {
        await lifecycle.stop();
        if (jobs !== undefined) await (await jobs.catch(() => undefined))?.close();
        await audit.flush();
        await db.close();
      })()),
  };
}

/** Whether the embedded store or the artifact folder lives in the home (a Postgres + S3 setup needs none). */
function usesHome(config: FluxConfig): boolean {
  const inside = (p: string): boolean => {
    const rel = path.relative(config.home, path.resolve(p));
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
  };
  const sqliteFile = /^postgres(ql)?:\/\//.test(config.databaseUrl) ? undefined : config.databaseUrl.replace(/^sqlite:(\/\/(?=\/))?/, '');
  return (sqliteFile !== undefined && sqliteFile !== ':memory:' && inside(sqliteFile)) || inside(config.artifactRoot);
}
