import type { Kysely, Selectable, Transaction } from 'kysely';
import { outboxFor, type Actor, type Outbox } from '../events/index.js';
import { uniqueOrAlreadyExists, type Database, type Dialect, type MetadataDb } from '../storage/db/index.js';
import type { EndpointChange, EndpointPatch, EndpointStore, NewEndpoint } from './endpoint-store.js';
import { DEFAULT_INFERENCE_LOG, type Batching, type Deployment, type Endpoint, type InferenceLogSettings, type Weights } from './types.js';

type EndpointRow = Selectable<Database['endpoints']>;
type DeploymentRow = Selectable<Database['deployments']>;

export class KyselyEndpointStore implements EndpointStore {
  private readonly db: Kysely<Database>;
  private readonly dialect: Dialect;
  private readonly outbox: Outbox;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.dialect = m.dialect;
    this.outbox = outboxFor(m);
  }

  async create(input: NewEndpoint, actor: Actor): Promise<void> {
    const now = Date.now();
    await this.outbox.transaction(async (trx) => {
      await uniqueOrAlreadyExists(
        () =>
          trx
            .insertInto('endpoints')
            .values({
              name: input.name,
              environment: input.environment,
              description: input.description,
              predict_roles: input.predictRoles === null ? null : JSON.stringify(input.predictRoles),
              sticky_header: input.stickyHeader,
              inference_log: JSON.stringify({ sample_rate: input.inferenceLog.sampleRate, retention_days: input.inferenceLog.retentionDays }),
              traffic: '{}',
              mirror: '{}',
              generation: 1,
              created_at: now,
              updated_at: now,
            })
            .execute(),
        `endpoint '${input.name}' already exists`,
      );
      await this.outbox.append(trx, { type: 'endpoint.created', endpoint: input.name, payload: { endpoint: input.name, environment: input.environment }, actor });
    });
  }

  async get(name: string): Promise<Endpoint | undefined> {
    return this.read(this.db, name);
  }

  async list(): Promise<Endpoint[]> {
    const rows = await this.db.selectFrom('endpoints').selectAll().orderBy('name').execute();
    if (rows.length === 0) return [];
    const deployments = await this.db.selectFrom('deployments').selectAll().orderBy('endpoint').orderBy('created_at').orderBy('name').execute();
    return rows.map((r) => toEndpoint(r, deployments.filter((d) => d.endpoint === r.name)));
  }

  async update(name: string, patch: EndpointPatch, actor: Actor): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      const set: Partial<Database['endpoints']> = { updated_at: Date.now() };
      if (patch.environment !== undefined) set.environment = patch.environment;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.predictRoles !== undefined) set.predict_roles = patch.predictRoles === null ? null : JSON.stringify(patch.predictRoles);
      if (patch.stickyHeader !== undefined) set.sticky_header = patch.stickyHeader;
      if (patch.inferenceLog !== undefined) set.inference_log = JSON.stringify({ sample_rate: patch.inferenceLog.sampleRate, retention_days: patch.inferenceLog.retentionDays });
      const r = await trx
        .updateTable('endpoints')
        .set((eb) => ({ ...set, generation: eb('generation', '+', 1) }))
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await this.outbox.append(trx, { type: 'endpoint.updated', endpoint: name, payload: { endpoint: name }, actor });
      return true;
    });
  }

  async delete(name: string, actor: Actor): Promise<boolean> {
    return this.outbox.transaction(async (trx) => {
      await trx.deleteFrom('deployments').where('endpoint', '=', name).execute();
      const r = await trx.deleteFrom('endpoints').where('name', '=', name).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await this.outbox.append(trx, { type: 'endpoint.deleted', endpoint: name, payload: { endpoint: name }, actor });
      return true;
    });
  }

  async change(name: string, change: (current: Endpoint) => EndpointChange, actor: Actor): Promise<Endpoint | undefined> {
    return this.outbox.transaction(async (trx) => {
      // The endpoint's row lock serialises its changes across servers (on SQLite the outbox's
      // transaction already holds the database's write lock).
      const current = await this.read(trx, name, true);
      if (current === undefined) return undefined;
      const c = change(current);
      const now = Date.now();
      if (c.upsert !== undefined) {
        const before = current.deployments.find((d) => d.name === c.upsert!.name);
        const batching = c.upsert.batching === null ? null : JSON.stringify(c.upsert.batching);
        if (before === undefined) {
          await trx.insertInto('deployments').values({ endpoint: name, name: c.upsert.name, model_ref: c.upsert.model, batching, created_at: now, updated_at: now }).execute();
          await this.outbox.append(trx, { type: 'deployment.created', endpoint: name, model: modelOf(c.upsert.model), payload: { endpoint: name, deployment: c.upsert.name, model: c.upsert.model }, actor });
        } else {
          await trx.updateTable('deployments').set({ model_ref: c.upsert.model, batching, updated_at: now }).where('endpoint', '=', name).where('name', '=', c.upsert.name).execute();
          await this.outbox.append(trx, {
            type: 'deployment.updated',
            endpoint: name,
            model: modelOf(c.upsert.model),
            payload: { endpoint: name, deployment: c.upsert.name, model: c.upsert.model, previous_model: before.model },
            actor,
          });
        }
      }
      if (c.remove !== undefined) {
        await trx.deleteFrom('deployments').where('endpoint', '=', name).where('name', '=', c.remove).execute();
        await this.outbox.append(trx, { type: 'deployment.deleted', endpoint: name, payload: { endpoint: name, deployment: c.remove }, actor });
      }
      const traffic = c.traffic ?? current.traffic;
      const mirror = c.mirror ?? current.mirror;
      await trx
        .updateTable('endpoints')
        .set((eb) => ({ traffic: JSON.stringify(traffic), mirror: JSON.stringify(mirror), updated_at: now, generation: eb('generation', '+', 1) }))
        .where('name', '=', name)
        .execute();
      if (!sameWeights(traffic, current.traffic) || !sameWeights(mirror, current.mirror)) {
        await this.outbox.append(trx, { type: 'traffic.changed', endpoint: name, payload: { endpoint: name, traffic, previous: current.traffic, mirror, previous_mirror: current.mirror }, actor });
      }
      return (await this.read(trx, name))!;
    });
  }

  private async read(db: Kysely<Database> | Transaction<Database>, name: string, lock = false): Promise<Endpoint | undefined> {
    let q = db.selectFrom('endpoints').selectAll().where('name', '=', name);
    if (lock && this.dialect === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (row === undefined) return undefined;
    const deployments = await db.selectFrom('deployments').selectAll().where('endpoint', '=', name).orderBy('created_at').orderBy('name').execute();
    return toEndpoint(row, deployments);
  }
}

/** The registered model a reference names (`diabetes@production`, `diabetes/3` → `diabetes`). */
function modelOf(ref: string): string {
  return ref.replace(/[@/][^@/]*$/, '');
}

function sameWeights(a: Weights, b: Weights): boolean {
  const ka = Object.keys(a).filter((k) => a[k] !== 0);
  const kb = Object.keys(b).filter((k) => b[k] !== 0);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

function toEndpoint(r: EndpointRow, deployments: DeploymentRow[]): Endpoint {
  return {
    name: r.name,
    environment: r.environment,
    description: r.description,
    predictRoles: r.predict_roles === null ? null : (JSON.parse(r.predict_roles) as string[]),
    stickyHeader: r.sticky_header,
    inferenceLog: inferenceLogRow(r.inference_log),
    deployments: deployments.map(toDeployment),
    traffic: JSON.parse(r.traffic) as Weights,
    mirror: JSON.parse(r.mirror) as Weights,
    generation: Number(r.generation),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function inferenceLogRow(text: string | null): InferenceLogSettings {
  if (text === null) return { ...DEFAULT_INFERENCE_LOG };
  const o = JSON.parse(text) as { sample_rate?: number; retention_days?: number };
  return { sampleRate: o.sample_rate ?? DEFAULT_INFERENCE_LOG.sampleRate, retentionDays: o.retention_days ?? DEFAULT_INFERENCE_LOG.retentionDays };
}

function toDeployment(r: DeploymentRow): Deployment {
  return {
    name: r.name,
    model: r.model_ref,
    batching: r.batching === null ? null : (JSON.parse(r.batching) as Batching),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
