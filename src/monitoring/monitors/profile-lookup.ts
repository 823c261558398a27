import type { RegistryService } from '../../registry/index.js';
import { parseModelProfile, PROFILE_FILE, type ModelProfile } from '../profiles/index.js';
import type { MonitorStore } from './monitor-store.js';

const TTL_MS = 30_000;

/**
 * A version's reference profile: the one a user stored for it (computed from a dataset they
 * named), else the one its model folder carries from training. Kept for a while once read;
 * storing one through here replaces it at once.
 */
export class ProfileLookup {
  private readonly cache = new Map<string, { at: number; value: { profile: ModelProfile; source: string } | undefined }>();

  constructor(
    private readonly store: MonitorStore,
    private readonly registry: RegistryService,
  ) {}

  async get(model: string, version: string, now = Date.now()): Promise<{ profile: ModelProfile; source: string } | undefined> {
    const key = `${model}/${version}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && now - hit.at < TTL_MS) return hit.value;
    const value = await this.read(model, version);
    this.cache.set(key, { at: now, value });
    return value;
  }

  async put(model: string, version: string, profile: ModelProfile): Promise<void> {
    await this.store.putProfile({ model, version, profile: JSON.stringify(profile), source: profile.source, createdAt: Date.now() });
    this.cache.set(`${model}/${version}`, { at: Date.now(), value: { profile, source: profile.source } });
  }

  private async read(model: string, version: string): Promise<{ profile: ModelProfile; source: string } | undefined> {
    const stored = await this.store.getProfile(model, version);
    if (stored !== undefined) return { profile: parseModelProfile(JSON.parse(stored.profile), `the stored profile of ${model}/${version}`), source: stored.source };
    const mv = await this.registry.getModelVersion(model, version).catch(() => undefined);
    if (mv === undefined || mv.storageLocation === '') return undefined;
    const files = this.registry.artifactStore;
    const file = `${mv.storageLocation}/${PROFILE_FILE}`;
    if (!(await files.exists(file).catch(() => false))) return undefined;
    const text = (await files.read(file)).toString('utf8');
    return { profile: parseModelProfile(JSON.parse(text), `${model}/${version}'s ${PROFILE_FILE}`), source: 'model folder' };
  }
}
