/** Runs every benchmark and prints one summary; figures below target are reported, never fatal. */
import { runIngestBench, INGEST_TARGET } from './ingest.js';
import { runPredictBench, PREDICT_TARGET_RATIO } from './predict.js';
import { fmt, machine } from './support.js';

const predict = await runPredictBench();
console.log('');
const ingest = await runIngestBench();

console.log('\n==== FluxOps benchmark summary ====');
console.log(`machine: ${machine()}`);
console.log(
  `predict  FluxOps ${fmt(predict.fluxops.requestsPerSecond)} req/s (p50 ${fmt(predict.fluxops.p50Ms, 3)} ms, p99 ${fmt(predict.fluxops.p99Ms, 3)} ms)  ` +
    `bare ${fmt(predict.bare.requestsPerSecond)} req/s (p50 ${fmt(predict.bare.p50Ms, 3)} ms, p99 ${fmt(predict.bare.p99Ms, 3)} ms)  ` +
    `ratio ${predict.ratio.toFixed(3)} (target ≥ ${PREDICT_TARGET_RATIO}) ${predict.pass ? 'PASS' : 'BELOW TARGET'}`,
);
for (const f of ingest.figures) {
  console.log(`ingest   ${f.backend.padEnd(8)} ${f.path.padEnd(10)} ${fmt(f.pointsPerSecond)} points/s (target ${fmt(INGEST_TARGET)}) ${f.pass ? 'PASS' : 'BELOW TARGET'}`);
}
console.log(`ingest   postgres: ${ingest.postgres}`);
