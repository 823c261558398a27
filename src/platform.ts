import { KeyService, KyselyKeyStore } from './auth/index.js';
import { resolveConfig, type ConfigInput, type FluxConfig } from './core/index.js';
import { KyselyLoggedModelStore, LoggedModelService } from './logged-models/index.js';
import { inspectModelFolder } from './models/index.js';
import { KyselyRegistryStore, RegistryService } from './registry/index.js';
import { openArtifactStore, type ArtifactStore } from './storage/artifacts/index.js';
import { migrateToLatest, openDatabase, type MetadataDb } from './storage/db/index.js';
import { KyselyTrackingStore, TrackingService } from './tracking/index.js';

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
  close(): Promise<void>;
}

/** The composition root: opens the stores named by the config, migrates, and builds the services. */
export async function openPlatform(input: ConfigInput = {}): Promise<Platform> {
  const config = resolveConfig(input);
  // The artifact root is checked first (a malformed root, a missing bucket or container), so a
  // server that cannot store artifacts refuses to start before it touches the database.
  const artifacts = openArtifactStore(config.artifactRoot);
  await artifacts.verify();
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  const tracking = new TrackingService(new KyselyTrackingStore(db), artifacts);
  const loggedModels = new LoggedModelService(new KyselyLoggedModelStore(db), tracking, artifacts);
  const registry = new RegistryService(new KyselyRegistryStore(db), tracking, artifacts, (loc) => inspectModelFolder(artifacts, loc), loggedModels.lookup());
  const keys = new KeyService(new KyselyKeyStore(db));
  return { config, db, artifacts, tracking, registry, loggedModels, keys, close: () => db.close() };
}
