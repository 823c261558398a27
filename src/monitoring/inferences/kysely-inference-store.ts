import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, MetadataDb } from '../../storage/db/index.js';
import type { InferenceStore, LatencyHistogram } from './inference-store.js';
import type { InferenceLabel, InferenceOutputs, InferenceQuery, InferenceRecord, NewInference } from './types.js';

type SegmentRow = Selectable<Database['inference_segments']>;
/** A record as a segment keeps it: [deployment, request_id, time, model, version, status, latency_ms, rows, inputs, outputs, error]. */
type Packed = [string, string, number, string | null, string | null, number, number, number, unknown, InferenceOutputs | null, string | null];

/** Upper bounds (ms) of the latency buckets a segment counts; one more bucket holds what is slower. */
export const LATENCY_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];
/** A record's seq is its segment's seq × this + its place in the segment. */
const PER_SEGMENT = 65_536;
const SEGMENT_PAGE = 50;
const DELETE_CHUNK = 1000;
/** How far back an upload of labels looks for the requests it names (to say how many matched). */
const LABEL_MATCH_MS = 7 * 86_400_000;

/**
 * The inference table on the metadata store, one row per segment: the records one flush wrote
 * for one endpoint, packed as one JSON array, with their count, errors and latency histogram beside
 * it. Writing is one INSERT per endpoint per flush whatever the traffic (a row per request cost
 * more than the prediction it logged); windows read the segments that overlap them and unpack
 * them; alert figures (counts, errors, latency) are read from the summaries, at the resolution of a
 * segment (one flush interval).
 */
export class KyselyInferenceStore implements InferenceStore {
  private readonly db: Kysely<Database>;

  constructor(m: MetadataDb) {
    this.db = m.db;
  }

  async insertBatch(rows: NewInference[]): Promise<void> {
    await this.insertSegments(segmentsOf(rows));
  }

  /** Writes segments already built (by `segmentsOf`; the inference log's writer thread does the same). */
  async insertSegments(values: SegmentValues[]): Promise<void> {
    if (values.length === 0) return;
    await this.db.insertInto('inference_segments').values(values).execute();
  }

  async list(q: InferenceQuery): Promise<InferenceRecord[]> {
    const out: InferenceRecord[] = [];
    const desc = q.newestFirst === true;
    for await (const [seg, records] of this.segments(q.endpoint, q.since, q.until, q.afterSeq === undefined ? undefined : Math.floor(q.afterSeq / PER_SEGMENT), desc)) {
      const n = records.length;
      for (let k = 0; k < n; k++) {
        const i = desc ? n - 1 - k : k;
        const seq = seg * PER_SEGMENT + i;
        if (q.afterSeq !== undefined && (desc ? seq >= q.afterSeq : seq <= q.afterSeq)) continue;
        const p = records[i]!;
        if (!matches(p, q)) continue;
        out.push(unpack(seq, q.endpoint, p));
        if (out.length >= q.limit) return out;
      }
    }
    return out;
  }

  async aggregate(endpoint: string, since: number, until: number, slowerThanMs?: number): Promise<{ count: number; errors: number; slow: number }> {
    const rows = await this.db
      .selectFrom('inference_segments')
      .select(['record_count', 'error_count', 'latency_buckets'])
      .where('endpoint', '=', endpoint)
      .where('max_time', '>=', since)
      .where('min_time', '<', until)
      .execute();
    let count = 0;
    let errors = 0;
    let slow = 0;
    // Buckets wholly above the threshold are slow; a bound is the threshold when it is one (0.5 s is).
    const first = slowerThanMs === undefined ? Infinity : LATENCY_BUCKETS_MS.findIndex((b) => b >= slowerThanMs) + 1 || LATENCY_BUCKETS_MS.length;
    for (const r of rows) {
      count += Number(r.record_count);
      errors += Number(r.error_count);
      if (first !== Infinity) {
        const b = JSON.parse(r.latency_buckets) as number[];
        for (let i = first; i < b.length; i++) slow += b[i]!;
      }
    }
    return { count, errors, slow };
  }

  async latencyHistogram(endpoint: string, since: number, until: number): Promise<LatencyHistogram> {
    const rows = await this.db
      .selectFrom('inference_segments')
      .select('latency_buckets')
      .where('endpoint', '=', endpoint)
      .where('max_time', '>=', since)
      .where('min_time', '<', until)
      .execute();
    const counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    for (const r of rows) (JSON.parse(r.latency_buckets) as number[]).forEach((c, i) => (counts[i]! += c));
    return { boundsMs: LATENCY_BUCKETS_MS, counts };
  }

  async putLabels(endpoint: string, labels: InferenceLabel[], now: number): Promise<{ written: number; matched: number }> {
    if (labels.length === 0) return { written: 0, matched: 0 };
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < labels.length; i += 250) {
        await trx
          .insertInto('inference_labels')
          .values(labels.slice(i, i + 250).map((l) => ({ endpoint, request_id: l.requestId, row: l.row, label: JSON.stringify(l.label), time: now })))
          .onConflict((oc) => oc.columns(['endpoint', 'request_id', 'row']).doUpdateSet((eb) => ({ label: eb.ref('excluded.label'), time: eb.ref('excluded.time') })))
          .execute();
      }
    });
    // How many name a logged request: the segments of the last week, newest first, until all are found.
    const wanted = new Set(labels.map((l) => l.requestId));
    const found = new Set<string>();
    for await (const [, records] of this.segments(endpoint, now - LABEL_MATCH_MS, undefined, undefined, true)) {
      for (const p of records) if (wanted.has(p[1])) found.add(p[1]);
      if (found.size === wanted.size) break;
    }
    return { written: labels.length, matched: labels.filter((l) => found.has(l.requestId)).length };
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
      const doomed = await this.db.selectFrom('inference_segments').select(['seq', 'record_count']).where('endpoint', '=', endpoint).where('max_time', '<', before).limit(DELETE_CHUNK).execute();
      if (doomed.length === 0) break;
      await this.db
        .deleteFrom('inference_segments')
        .where(
          'seq',
          'in',
          doomed.map((d) => d.seq),
        )
        .execute();
      total += doomed.reduce((s, d) => s + Number(d.record_count), 0);
      if (doomed.length < DELETE_CHUNK) break;
    }
    await this.db.deleteFrom('inference_labels').where('endpoint', '=', endpoint).where('time', '<', before).execute();
    return total;
  }

  async endpoints(): Promise<string[]> {
    const rows = await this.db.selectFrom('inference_segments').select('endpoint').distinct().execute();
    return rows.map((r) => r.endpoint).sort();
  }

  /** The segments overlapping a window, unpacked, a page of them at a time. */
  private async *segments(endpoint: string, since: number | undefined, until: number | undefined, fromSeg: number | undefined, desc: boolean): AsyncGenerator<[number, Packed[]]> {
    let bound = fromSeg;
    let first = true;
    for (;;) {
      let s = this.db.selectFrom('inference_segments').select(['seq', 'records']).where('endpoint', '=', endpoint);
      if (since !== undefined) s = s.where('max_time', '>=', since);
      if (until !== undefined) s = s.where('min_time', '<', until);
      // The first page includes the segment the cursor is in; later ones go strictly past the last read.
      if (bound !== undefined) s = s.where('seq', desc ? (first ? '<=' : '<') : first ? '>=' : '>', bound);
      const rows: Array<Pick<SegmentRow, 'seq' | 'records'>> = await s.orderBy('seq', desc ? 'desc' : 'asc').limit(SEGMENT_PAGE).execute();
      for (const r of rows) yield [Number(r.seq), JSON.parse(r.records) as Packed[]];
      if (rows.length < SEGMENT_PAGE) return;
      bound = Number(rows.at(-1)!.seq);
      first = false;
    }
  }
}

/** The columns of one segment row. */
export type SegmentValues = Insertable<Database['inference_segments']>;

/** The segments of a batch: one per endpoint (split past PER_SEGMENT records). */
export function segmentsOf(rows: readonly NewInference[]): SegmentValues[] {
  const byEndpoint = new Map<string, NewInference[]>();
  for (const r of rows) {
    let list = byEndpoint.get(r.endpoint);
    if (list === undefined) byEndpoint.set(r.endpoint, (list = []));
    list.push(r);
  }
  const out: SegmentValues[] = [];
  for (const [endpoint, list] of byEndpoint) for (let i = 0; i < list.length; i += PER_SEGMENT - 1) out.push(segmentOf(endpoint, list.slice(i, i + PER_SEGMENT - 1)));
  return out;
}

/** Names, ids and versions are almost always plain tokens: quoted without JSON.stringify's scan. */
const PLAIN = /^[\w.@:/ -]*$/;
const quote = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

function segmentOf(endpoint: string, list: NewInference[]): SegmentValues {
  let min = Infinity;
  let max = -Infinity;
  let errors = 0;
  const buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  let text = '[';
  for (let k = 0; k < list.length; k++) {
    const r = list[k]!;
    if (r.time < min) min = r.time;
    if (r.time > max) max = r.time;
    if (r.status >= 500) errors++;
    let b = 0;
    while (b < LATENCY_BUCKETS_MS.length && r.latencyMs > LATENCY_BUCKETS_MS[b]!) b++;
    buckets[b]!++;
    // inputs and outputs are JSON text already: spliced in, not encoded again.
    text +=
      (k === 0 ? '[' : ',[') +
      quote(r.deployment) + ',' + quote(r.requestId) + ',' + r.time + ',' + (r.model === null ? 'null' : quote(r.model)) + ',' + (r.version === null ? 'null' : quote(r.version)) + ',' +
      r.status + ',' + (Number.isFinite(r.latencyMs) ? r.latencyMs : 0) + ',' + r.rows + ',' + r.inputs + ',' + (r.outputs ?? 'null') + ',' + (r.error === null ? 'null' : JSON.stringify(r.error)) + ']';
  }
  return { endpoint, min_time: min, max_time: max, record_count: list.length, error_count: errors, latency_buckets: JSON.stringify(buckets), records: text + ']' };
}

function matches(p: Packed, q: { deployment?: string | undefined; since?: number | undefined; until?: number | undefined; okOnly?: boolean | undefined }): boolean {
  if (q.deployment !== undefined && p[0] !== q.deployment) return false;
  if (q.since !== undefined && p[2] < q.since) return false;
  if (q.until !== undefined && p[2] >= q.until) return false;
  if (q.okOnly === true && p[5] >= 300) return false;
  return true;
}

function unpack(seq: number, endpoint: string, p: Packed): InferenceRecord {
  return { seq, endpoint, deployment: p[0], requestId: p[1], time: p[2], model: p[3], version: p[4], status: p[5], latencyMs: p[6], rows: p[7], inputs: p[8], outputs: p[9], error: p[10] };
}
