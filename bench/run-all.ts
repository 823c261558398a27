/** Runs every benchmark and prints one summary; figures below target are reported, never fatal. */
import { runIngestBench, INGEST_TARGET } from './ingest.js';
import { runLogMetricBench, LOG_METRIC_TARGET } from './log-metric.js';
import { runMlflowBench, MLFLOW_INGEST_TARGET, MLFLOW_SEARCH_TARGET_MS } from './mlflow.js';
import { runPredictBench, INFERENCE_LOG_TARGET_RATIO, PREDICT_TARGET_RATIO, ROUTER_OVERHEAD_TARGET_MS } from './predict.js';
import { runReplicaBench, PROPAGATION_TARGET_MS } from './replica-propagation.js';
import { fmt, machine } from './support.js';

const predict = await runPredictBench();
console.log('');
const ingest = await runIngestBench();
console.log('');
const mlflow = await runMlflowBench();
console.log('');
// Needs Postgres (two replicas on one database); without FLUXOPS_BENCH_PG_URL it reports itself skipped.
const replica = await runReplicaBench();
const logMetric = await runLogMetricBench();

console.log('\n==== FluxOps benchmark summary ====');
console.log(`machine: ${machine()}`);
console.log(
  `predict  FluxOps ${fmt(predict.fluxops.requestsPerSecond)} req/s (p50 ${fmt(predict.fluxops.p50Ms, 3)} ms, p99 ${fmt(predict.fluxops.p99Ms, 3)} ms)  ` +
    `bare ${fmt(predict.bare.requestsPerSecond)} req/s (p50 ${fmt(predict.bare.p50Ms, 3)} ms, p99 ${fmt(predict.bare.p99Ms, 3)} ms)  ` +
    `ratio ${predict.ratio.toFixed(3)}`,
);
console.log(
  `predict  endpoint (blue 50, green 50) ${fmt(predict.endpoint.requestsPerSecond)} req/s (p50 ${fmt(predict.endpoint.p50Ms, 3)} ms, p99 ${fmt(predict.endpoint.p99Ms, 3)} ms)  ` +
    `ratio ${predict.endpointRatio.toFixed(3)} (target ≥ ${PREDICT_TARGET_RATIO}) ${predict.pass ? 'PASS' : 'BELOW TARGET'}`,
);
console.log(`router   overhead p50 ${fmt(predict.router.overheadMs, 3)} ms (endpoint ${fmt(predict.router.endpointP50Ms, 3)} ms − direct ${fmt(predict.router.directP50Ms, 3)} ms; target ≤ ${ROUTER_OVERHEAD_TARGET_MS} ms) ${predict.router.pass ? 'PASS' : 'ABOVE TARGET'}`);
console.log(
  `inflog   endpoint logging every request ${fmt(predict.endpoint.requestsPerSecond)} req/s vs not logging ${fmt(predict.inferenceLog.unlogged.requestsPerSecond)} req/s  ` +
    `ratio ${predict.inferenceLog.ratio.toFixed(3)} (target ≥ ${INFERENCE_LOG_TARGET_RATIO}) ${predict.inferenceLog.pass ? 'PASS' : 'BELOW TARGET'}; ${fmt(predict.inferenceLog.written)} written, ${fmt(predict.inferenceLog.dropped)} dropped`,
);
console.log(`workers  --workers 2 ${fmt(predict.workers.two.requestsPerSecond)} req/s vs --workers 1 ${fmt(predict.workers.one.requestsPerSecond)} req/s  ratio ${predict.workers.ratio.toFixed(3)}`);
console.log(
  `onnx     endpoint batched ${fmt(predict.onnx.batched.requestsPerSecond)} req/s (p99 ${fmt(predict.onnx.batched.p99Ms, 3)} ms) vs unbatched ${fmt(predict.onnx.plain.requestsPerSecond)} req/s (p99 ${fmt(predict.onnx.plain.p99Ms, 3)} ms)  ` +
    `ratio ${predict.onnx.ratio.toFixed(3)}; ${fmt(predict.onnx.rows / Math.max(1, predict.onnx.batches), 1)} rows per ONNX run`,
);
for (const f of ingest.figures) {
  console.log(`ingest   ${f.backend.padEnd(8)} ${f.path.padEnd(10)} ${fmt(f.pointsPerSecond)} points/s (target ${fmt(INGEST_TARGET)}) ${f.pass ? 'PASS' : 'BELOW TARGET'}`);
}
console.log(`ingest   postgres: ${ingest.postgres}`);
for (const f of mlflow.ingest) {
  console.log(`mlflow   ${f.backend.padEnd(8)} log-batch ${fmt(f.pointsPerSecond)} points/s (target ${fmt(MLFLOW_INGEST_TARGET)}) ${f.pass ? 'PASS' : 'BELOW TARGET'}`);
}
for (const f of mlflow.search) {
  console.log(
    `mlflow   ${f.backend.padEnd(8)} runs/search ${fmt(f.runs)} runs → ${fmt(f.returned)}: median ${fmt(f.medianMs, 1)} ms, p95 ${fmt(f.p95Ms, 1)} ms (target ≤ ${MLFLOW_SEARCH_TARGET_MS} ms) ${f.pass ? 'PASS' : 'ABOVE TARGET'}`,
  );
}
console.log(`mlflow   postgres: ${mlflow.postgres}`);
if (replica.events !== undefined && replica.baseline !== undefined) {
  console.log(
    `replica  alias move on A → swap on B: events median ${fmt(replica.events.medianMs, 1)} ms, p95 ${fmt(replica.events.p95Ms, 1)} ms, max ${fmt(replica.events.maxMs, 1)} ms  ` +
      `poll-only median ${fmt(replica.baseline.medianMs, 1)} ms  ratio ${replica.ratio!.toFixed(1)}× (target p95 ≤ ${PROPAGATION_TARGET_MS} ms) ${replica.pass ? 'PASS' : 'ABOVE TARGET'}`,
  );
} else {
  console.log(`replica  postgres: ${replica.postgres}`);
}
for (const f of logMetric.figures) {
  const target = f.backend === 'sqlite' && f.groupCommit && f.clients === 8 ? ` (target ≥ ${fmt(LOG_METRIC_TARGET)}) ${f.callsPerSecond >= LOG_METRIC_TARGET ? 'PASS' : 'BELOW TARGET'}` : '';
  console.log(`log-metric ${f.backend.padEnd(8)} group commit ${f.groupCommit ? 'on ' : 'off'} ${String(f.clients).padStart(2)} client(s) ${fmt(f.callsPerSecond)} calls/s${target}`);
}
console.log(`log-metric postgres: ${logMetric.postgres}`);
