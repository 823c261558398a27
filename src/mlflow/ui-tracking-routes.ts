import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { FluxError, RUN_ID_PATTERN } from '../core/index.js';
import type { Metric, TrackingService } from '../tracking/index.js';
import { metricJson } from './convert.js';
import type { MlflowRouteDeps } from './index.js';
import { checkRunId, MlflowFields } from './mlflow-fields.js';
import { invalid, missing, mlflowArtifactPath } from './mlflow-refusals.js';
import { mlflowRouter } from './mlflow-router.js';
import { sampledSteps } from './sampled-steps.js';

/** MLflow's bounds for these routes (its server handlers' constants). */
const BULK_RUNS_MAX = 100;
const BULK_RESULTS_MAX = 25_000;
const INTERVAL_RESULTS_PER_RUN_MAX = 2_500;
const SEARCH_DATASETS_EXPERIMENTS_MAX = 20;
const UPLOAD_BYTES_MAX = 10 * 1024 * 1024;
/** MLflow appends this to the messages of its schema checks. */
const SEE_DOCS = ' See the API docs for more information about request parameters.';

/**
 * The routes MLflow serves only under `/ajax-api/2.0/mlflow` (for its web UI): bulk and sampled
 * metric histories for the charts, the experiments' dataset summaries, and the UI's small-file
 * upload. Registered only in the ajax scope, as MLflow's `server/__init__.py` registers them.
 */
export const mlflowUiTrackingRoutes: FastifyPluginAsync<MlflowRouteDeps> = async (app, { platform, hidden }) => {
  const t = platform.tracking;
  const route = mlflowRouter(app, hidden);

  route(
    'GET',
    '/metrics/get-history-bulk', 'read',
    'Metric history of several runs',
    `Query: run_id (repeated, ≤ ${BULK_RUNS_MAX}), metric_key, max_results (≤ ${BULK_RESULTS_MAX}). Returns {metrics [{key, value, timestamp, step, run_id}]} by run id, then timestamp, step, value.`,
    async (f) => {
      const runIds = f.stringList('run_id');
      if (runIds.length === 0) throw invalid('GetMetricHistoryBulk request must specify at least one run_id.');
      if (runIds.length > BULK_RUNS_MAX) throw invalid(`GetMetricHistoryBulk request cannot specify more than ${BULK_RUNS_MAX} run_ids. Received ${runIds.length} run_ids.`);
      const key = f.string('metric_key');
      if (key === undefined) throw invalid('GetMetricHistoryBulk request must specify a metric_key.');
      const requested = f.int64('max_results') ?? BULK_RESULTS_MAX;
      if (requested < 0) throw f.invalid('max_results');
      const max = Math.min(requested, BULK_RESULTS_MAX);
      const out: Array<ReturnType<typeof metricJson> & { run_id: string }> = [];
      // As MLflow's SQL store: one IN query, so ids of no run contribute nothing rather than a 404.
      // Every point of each run is read: the first `max` by timestamp need not be the first by step.
      for (const runId of [...new Set(runIds)].sort()) {
        if (out.length >= max) break;
        if (!RUN_ID_PATTERN.test(runId)) continue;
        const history = await fullHistory(t, runId, key, true);
        history.sort((a, b) => a.timestamp - b.timestamp || a.step - b.step || a.value - b.value);
        for (const m of history) out.push({ ...metricJson(m), run_id: runId });
      }
      return { metrics: out.slice(0, max) };
    },
  );

  route(
    'GET',
    '/metrics/get-history-bulk-interval', 'read',
    'Sampled metric history of several runs',
    `Query: run_ids (repeated, ≤ ${BULK_RUNS_MAX}), metric_key, start_step and end_step (both or neither), max_results (1–${INTERVAL_RESULTS_PER_RUN_MAX}, default ${INTERVAL_RESULTS_PER_RUN_MAX}). ` +
      'Samples max_results steps evenly over the steps the runs logged in the range (plus each run\'s first and last), as MLflow does, and returns {metrics [{key, value, timestamp, step, run_id}]} at those steps, run by run.',
    async (f) => {
      const runIds = f.stringList('run_ids');
      if (runIds.length === 0) throw missing('run_ids');
      if (runIds.length > BULK_RUNS_MAX) {
        throw invalid(`GetMetricHistoryBulkInterval request must specify at most ${BULK_RUNS_MAX} run_ids. Received ${runIds.length} run_ids.${SEE_DOCS}`);
      }
      const key = f.string('metric_key');
      if (key === undefined || key === '') throw missing('metric_key');
      let start = f.int64('start_step');
      let end = f.int64('end_step');
      const max = f.int64('max_results') ?? INTERVAL_RESULTS_PER_RUN_MAX;
      if (max < 1 || max > INTERVAL_RESULTS_PER_RUN_MAX) throw invalid(`max_results must be between 1 and ${INTERVAL_RESULTS_PER_RUN_MAX}.${SEE_DOCS}`);
      if (start !== undefined && end !== undefined) {
        if (start > end) throw invalid(`end_step must be greater than start_step. Found start_step=${start} and end_step=${end}.`);
      } else if (start !== undefined || end !== undefined) {
        throw invalid('If either start step or end step are specified, both must be specified.');
      }
      // Steps are sampled from those actually logged (any run's), so gaps are not sampled.
      const histories: Array<[string, Metric[]]> = [];
      for (const runId of runIds) histories.push([runId, await fullHistory(t, checkRunId(runId), key, false)]);
      const all = [...new Set(histories.flatMap(([, h]) => h.map((m) => m.step)))].sort((a, b) => a - b);
      start ??= 0;
      end ??= all.at(-1) ?? 0;
      const steps = sampledSteps(start, end, max, all);
      // Each run's first and last step in range are always drawn, so no line is cut short.
      for (const [, h] of histories) {
        if (h.length === 0) continue;
        for (const s of [Math.min(...h.map((m) => m.step)), Math.max(...h.map((m) => m.step))]) if (s >= start && s <= end) steps.add(s);
      }
      const metrics: Array<ReturnType<typeof metricJson> & { run_id: string }> = [];
      for (const [runId, h] of histories) {
        const picked = h.filter((m) => steps.has(m.step));
        picked.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp || a.value - b.value);
        for (const m of picked.slice(0, BULK_RESULTS_MAX)) metrics.push({ ...metricJson(m), run_id: runId });
      }
      return metrics.length > 0 ? { metrics } : {};
    },
  );

  route(
    'POST',
    '/experiments/search-datasets', 'read',
    'Datasets the runs of experiments used',
    `Body: experiment_ids (1–${SEARCH_DATASETS_EXPERIMENTS_MAX}). Returns {dataset_summaries [{experiment_id, name, digest, context}]}, distinct, at most 1000; context is null for an input without the mlflow.data.context tag.`,
    async (f) => {
      const ids = f.stringList('experiment_ids');
      if (ids.length === 0) throw invalid('SearchDatasets request must specify at least one experiment_id.');
      if (ids.length > SEARCH_DATASETS_EXPERIMENTS_MAX) {
        throw invalid(`SearchDatasets request cannot specify more than ${SEARCH_DATASETS_EXPERIMENTS_MAX} experiment_ids. Received ${ids.length} experiment_ids.`);
      }
      const summaries = await t.searchDatasets(ids);
      return {
        dataset_summaries: summaries.map((d) => ({ experiment_id: d.experimentId, name: d.name, digest: d.digest, context: d.context === '' ? null : d.context })),
      };
    },
  );

  // The UI's upload of one small file: the raw body of any content type, so this route reads
  // the request stream itself (in a scope of its own, without the JSON parser).
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    const uploadRoute = mlflowRouter(upload, hidden);
    uploadRoute(
      'POST',
      '/upload-artifact', 'write',
      'Upload one file into a run (MLflow UI)',
      `Query: run_uuid, path (inside the run's artifact folder). Body: the file's bytes (≤ 10 MB). Returns {}.`,
      async (_body, req) => {
        const f = MlflowFields.ofQuery(req);
        const runId = f.string('run_uuid');
        if (!runId) throw invalid('Request must specify run_uuid.');
        const path = f.string('path');
        if (!path) throw invalid('Request must specify path.');
        const segments = mlflowArtifactPath(path);
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > UPLOAD_BYTES_MAX) throw invalid('Artifact size is too large. Max size is 10MB.');
        const data = await readAtMost(req.body as Readable | undefined, UPLOAD_BYTES_MAX);
        if (data.length === 0) throw invalid('Request must specify data.');
        await t.logArtifact(checkRunId(runId), segments.join('/'), data);
        return {};
      },
    );
  });
};

/**
 * A run's whole history of one metric (every page). `skipUnknown` makes a run that does not
 * exist an empty history instead of a 404.
 */
async function fullHistory(t: TrackingService, runId: string, key: string, skipUnknown: boolean): Promise<Metric[]> {
  const out: Metric[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await t.getMetricHistory(runId, key, { maxResults: BULK_RESULTS_MAX, pageToken: token });
      out.push(...page.items);
      token = page.nextPageToken;
    } while (token !== undefined);
  } catch (e) {
    if (skipUnknown && e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST') return [];
    throw e;
  }
  return out;
}

/** The request body, refused past `max` bytes (also when no content-length was declared). */
async function readAtMost(body: Readable | undefined, max: number): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += b.length;
    if (size > max) {
      body.destroy();
      throw invalid('Artifact size is too large. Max size is 10MB.');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
