import type { Kysely } from 'kysely';
import { FluxError } from '../core/index.js';
import { groupCommitterFor, type Database, type GroupCommitter, type MetadataDb } from '../storage/db/index.js';

/** One state-changing call: who, what, on which target, and how it ended. */
export interface AuditEntry {
  seq?: number | undefined;
  time: number;
  keyId: string | null;
  keyName: string | null;
  /** The caller's role, or `anonymous`. */
  role: string;
  method: string;
  /** The matched route pattern (`/api/v1/models/:name`), never the raw URL. */
  route: string;
  /** The object acted on, as `field=value` pairs from the path and body. */
  target: string;
  status: number;
  requestId: string;
}

export interface AuditQuery {
  /** Epoch ms; entries at or after it. */
  since?: number | undefined;
  /** Sequence cursor: entries after it. */
  after?: number | undefined;
  limit?: number | undefined;
}

/** Port for the append-only audit log: insert and read, never update or delete. */
export interface AuditStore {
  append(entries: AuditEntry[]): Promise<void>;
  list(q: { since: number | undefined; after: number | undefined; limit: number }): Promise<AuditEntry[]>;
}

export class KyselyAuditStore implements AuditStore {
  private readonly db: Kysely<Database>;
  /** On SQLite, audit rows join the store's group commit: the tracking writes of the same moment share their fsync. */
  private readonly committer: GroupCommitter | undefined;
  constructor(m: MetadataDb, options: { groupCommit?: boolean } = {}) {
    this.db = m.db;
    this.committer = m.dialect === 'sqlite' && options.groupCommit !== false ? groupCommitterFor(m.db) : undefined;
  }
  async append(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.committer !== undefined) await this.committer.run((db) => this.insert(db, entries));
    else await this.insert(this.db, entries);
  }
  private async insert(db: Kysely<Database>, entries: AuditEntry[]): Promise<void> {
    await db
      .insertInto('audit_log')
      .values(
        entries.map((e) => ({
          time: e.time,
          key_id: e.keyId,
          key_name: e.keyName,
          role: e.role,
          method: e.method,
          route: e.route,
          target: e.target,
          status: e.status,
          request_id: e.requestId,
        })),
      )
      .execute();
  }
  async list(q: { since: number | undefined; after: number | undefined; limit: number }): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll();
    if (q.since !== undefined) query = query.where('time', '>=', q.since);
    if (q.after !== undefined) query = query.where('seq', '>', q.after);
    const rows = await query.orderBy('seq').limit(q.limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      time: r.time,
      keyId: r.key_id,
      keyName: r.key_name,
      role: r.role,
      method: r.method,
      route: r.route,
      target: r.target,
      status: r.status,
      requestId: r.request_id,
    }));
  }
}

const BATCH_MAX = 500;

/**
 * The audit log. Entries that arrive while a write is in flight are written together in the next
 * one (group commit), so auditing every write costs one extra commit per group, not per call;
 * `record` resolves once its entry is durable.
 */
export class AuditLog {
  private queue: Array<{ entry: AuditEntry; resolve: () => void; reject: (e: unknown) => void }> = [];
  private draining: Promise<void> | undefined;

  constructor(private readonly store: AuditStore) {}

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves when everything recorded so far is written. */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, BATCH_MAX);
        try {
          await this.store.append(batch.map((b) => b.entry));
          for (const b of batch) b.resolve();
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  async list(q: AuditQuery = {}): Promise<{ entries: AuditEntry[]; nextAfter: number | undefined }> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new FluxError('INVALID_PARAMETER_VALUE', 'limit must be an integer from 1 to 10000', { field: 'limit' });
    const entries = await this.store.list({ since: q.since, after: q.after, limit });
    return { entries, nextAfter: entries.length === limit ? entries.at(-1)?.seq : undefined };
  }
}
