import type { Kysely, Selectable } from 'kysely';
import { RowInsert, type Database, type MetadataDb } from '../../storage/db/index.js';
import type { InferenceStore } from './inference-store.js';
import type { InferenceLabel, InferenceOutputs, InferenceQuery, InferenceRecord, NewInference } from './types.js';

type Row = Selectable<Database['inferences']>;
type InsertRow = Database['inferences'] extends infer T ? Omit<{ [K in keyof T]: T[K] }, 'seq'> : never;

/** Rows per INSERT statement: 12 parameters each stays far under SQLite's and Postgres's limits. */
const CHUNK = 250;
/** Rows deleted per statement by retention, so a large purge never holds the write lock long. */
const DELETE_CHUNK = 5000;

export class KyselyInferenceStore implements InferenceStore {
  private readonly db: Kysely<Database>;
  private readonly insert: RowInsert<InsertRow>;

  constructor(m: MetadataDb) {
    this.db = m.db;
    this.insert = new RowInsert<InsertRow>((rows) => this.db.insertInto('inferences').values(rows));
  }

  async insertBatch(rows: NewInference[]): Promise<void> {
    if (rows.length === 0) return;
    const values: InsertRow[] = rows.map((r) => ({
      endpoint: r.endpoint,
      deployment: r.deployment,
      request_id: r.requestId,
      time: r.time,
      model: r.model,
      version: r.version,
      status: r.status,
      latency_ms: r.latencyMs,
      row_count: r.rows,
      inputs: r.inputs,
      outputs: r.outputs,
      error: r.error,
    }));
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < values.length; i += CHUNK) await trx.executeQuery(this.insert.bind(values.slice(i, i + CHUNK)));
    });
  }

  async list(q: InferenceQuery): Promise<InferenceRecord[]> {
    let s = this.db.selectFrom('inferences').selectAll().where('endpoint', '=', q.endpoint);
    if (q.deployment !== undefined) s = s.where('deployment', '=', q.deployment);
    if (q.since !== undefined) s = s.where('time', '>=', q.since);
    if (q.until !== undefined) s = s.where('time', '<', q.until);
    if (q.okOnly === true) s = s.where('status', '<', 300);
    if (q.afterSeq !== undefined) s = s.where('seq', q.newestFirst === true ? '<' : '>', q.afterSeq);
    const rows = await s
      .orderBy('seq', q.newestFirst === true ? 'desc' : 'asc')
      .limit(q.limit)
      .execute();
    return rows.map(toRecord);
  }

  async count(q: Omit<InferenceQuery, 'limit' | 'afterSeq' | 'newestFirst'>): Promise<number> {
    let s = this.db.selectFrom('inferences').select((eb) => eb.fn.countAll<number>().as('n')).where('endpoint', '=', q.endpoint);
    if (q.deployment !== undefined) s = s.where('deployment', '=', q.deployment);
    if (q.since !== undefined) s = s.where('time', '>=', q.since);
    if (q.until !== undefined) s = s.where('time', '<', q.until);
    if (q.okOnly === true) s = s.where('status', '<', 300);
    const r = await s.executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async putLabels(endpoint: string, labels: InferenceLabel[], now: number): Promise<{ written: number; matched: number }> {
    if (labels.length === 0) return { written: 0, matched: 0 };
    let matched = 0;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < labels.length; i += CHUNK) {
        const chunk = labels.slice(i, i + CHUNK);
        await trx
          .insertInto('inference_labels')
          .values(chunk.map((l) => ({ endpoint, request_id: l.requestId, row: l.row, label: JSON.stringify(l.label), time: now })))
          .onConflict((oc) => oc.columns(['endpoint', 'request_id', 'row']).doUpdateSet((eb) => ({ label: eb.ref('excluded.label'), time: eb.ref('excluded.time') })))
          .execute();
        const ids = [...new Set(chunk.map((l) => l.requestId))];
        const found = await trx.selectFrom('inferences').select('request_id').distinct().where('endpoint', '=', endpoint).where('request_id', 'in', ids).execute();
        const known = new Set(found.map((f) => f.request_id));
        matched += chunk.filter((l) => known.has(l.requestId)).length;
      }
    });
    return { written: labels.length, matched };
  }

  async labelsOf(endpoint: string, requestIds: readonly string[]): Promise<Map<string, Map<number, number | string>>> {
    const out = new Map<string, Map<number, number | string>>();
    const ids = [...new Set(requestIds)];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('inference_labels')
        .select(['request_id', 'row', 'label'])
        .where('endpoint', '=', endpoint)
        .where('request_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        let m = out.get(r.request_id);
        if (m === undefined) out.set(r.request_id, (m = new Map<number, number | string>()));
        m.set(Number(r.row), JSON.parse(r.label) as number | string);
      }
    }
    return out;
  }

  async deleteOlderThan(endpoint: string, before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await this.db
        .deleteFrom('inferences')
        .where('seq', 'in', (eb) => eb.selectFrom('inferences').select('seq').where('endpoint', '=', endpoint).where('time', '<', before).limit(DELETE_CHUNK))
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      total += n;
      if (n < DELETE_CHUNK) break;
    }
    await this.db.deleteFrom('inference_labels').where('endpoint', '=', endpoint).where('time', '<', before).execute();
    return total;
  }

  async aggregate(endpoint: string, since: number, until: number, slowerThanMs?: number): Promise<{ count: number; errors: number; slow: number }> {
    const r = await this.db
      .selectFrom('inferences')
      .select((eb) => [
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>(eb.case().when('status', '>=', 500).then(1).else(0).end()).as('errors'),
        eb.fn.sum<number>(eb.case().when('latency_ms', '>', slowerThanMs ?? Number.MAX_VALUE).then(1).else(0).end()).as('slow'),
      ])
      .where('endpoint', '=', endpoint)
      .where('time', '>=', since)
      .where('time', '<', until)
      .executeTakeFirstOrThrow();
    return { count: Number(r.count), errors: Number(r.errors ?? 0), slow: Number(r.slow ?? 0) };
  }

  async latencies(endpoint: string, since: number, until: number, max: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('inferences')
      .select('latency_ms')
      .where('endpoint', '=', endpoint)
      .where('time', '>=', since)
      .where('time', '<', until)
      .where('status', '<', 500)
      .orderBy('seq', 'desc')
      .limit(max)
      .execute();
    return rows.map((r) => Number(r.latency_ms));
  }

  async endpoints(): Promise<string[]> {
    const rows = await this.db.selectFrom('inferences').select('endpoint').distinct().execute();
    return rows.map((r) => r.endpoint).sort();
  }
}

function toRecord(r: Row): InferenceRecord {
  return {
    seq: Number(r.seq),
    endpoint: r.endpoint,
    deployment: r.deployment,
    requestId: r.request_id,
    time: Number(r.time),
    model: r.model,
    version: r.version,
    status: Number(r.status),
    latencyMs: Number(r.latency_ms),
    rows: Number(r.row_count),
    inputs: JSON.parse(r.inputs) as unknown,
    outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as InferenceOutputs),
    error: r.error,
  };
}
