import { KeyService, KyselyKeyStore } from './auth/index.js';
import { Lifecycle, createLogger, resolveConfig, type ConfigInput, type FluxConfig, type Logger } from './core/index.js';
import { EventBus, EventDispatcher, EventLog, PgListener, outboxFor } from './events/index.js';
import { KyselyLoggedModelStore, LoggedModelService } from './logged-models/index.js';
import { inspectModelFolder } from './models/index.js';
import { KyselyRegistryStore, RegistryService } from './registry/index.js';
import { openArtifactStore, type ArtifactStore } from './storage/artifacts/index.js';
import { migrateToLatest, openDatabase, type MetadataDb } from './storage/db/index.js';
import { KyselyTrackingStore, TrackingService } from './tracking/index.js';

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
  tracking: TrackingService;
  registry: RegistryService;
  /** MLflow 3's logged models, which registry versions can be created from. */
  loggedModels: LoggedModelService;
  keys: KeyService;
  events: PlatformEvents;
  /** The background parts (event dispatcher, listener, and what servers add); `start()` runs them. */
  lifecycle: Lifecycle;
  /** Starts the background parts not yet started. Commands that only read or write need not call it. */
  start(): Promise<void>;
  /** Stops the background parts (newest first, flushing events), then closes the store. */
  close(): Promise<void>;
}

export interface PlatformOptions {
  logger?: Logger | undefined;
}

/** The composition root: opens the stores named by the config, migrates, and builds the services. */
export async function openPlatform(input: ConfigInput = {}, opts: PlatformOptions = {}): Promise<Platform> {
  const config = resolveConfig(input);
  const logger = opts.logger ?? createLogger({}, true);
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  const artifacts = openArtifactStore(config.artifactRoot);
  const tracking = new TrackingService(new KyselyTrackingStore(db), artifacts);
  const loggedModels = new LoggedModelService(new KyselyLoggedModelStore(db), tracking, artifacts);
  const registry = new RegistryService(new KyselyRegistryStore(db), tracking, artifacts, (loc) => inspectModelFolder(artifacts, loc), loggedModels.lookup());
  const keys = new KeyService(new KyselyKeyStore(db));

  const bus = new EventBus(logger);
  const log = new EventLog(db, bus);
  const dispatcher = new EventDispatcher(log, bus, outboxFor(db), { pollMs: config.eventsPollMs }, logger);
  const listener = db.dialect === 'postgres' && config.eventsListen ? new PgListener(config.databaseUrl, () => dispatcher.wake(), logger) : undefined;
  const lifecycle = new Lifecycle(logger);
  // The dispatcher first: it takes its cursor before anything that subscribes reads the state.
  lifecycle.add(dispatcher);
  if (listener !== undefined) lifecycle.add(listener);

  let closing: Promise<void> | undefined;
  return {
    config,
    db,
    artifacts,
    tracking,
    registry,
    loggedModels,
    keys,
    events: { log, bus, dispatcher, listener },
    lifecycle,
    start: () => lifecycle.start(),
    close: () =>
      (closing ??= (async () => {
        await lifecycle.stop();
        await db.close();
      })()),
  };
}
