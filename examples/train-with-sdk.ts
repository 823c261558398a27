/**
 * Train with the built-in trainer in a Node script and record everything through the SDK:
 *
 *   npx fluxops server &                       # a server on http://127.0.0.1:8000
 *   npm run example:sdk -- http://127.0.0.1:8000
 *
 * It starts a run, logs params, a per-iteration loss curve (batched automatically) and the final
 * metrics, uploads the model, registers it as `sdk-diabetes`, points the `staging` alias at the
 * new version and finds the best run by F1.
 */
import { generateDiabetesCsv, MODEL_FILE, serializeModel, trainClassifier } from 'fluxops';
import { FluxClient } from 'fluxops/client';
import { pathToFileURL } from 'node:url';

export async function main(url: string): Promise<{ runId: string; version: string; bestF1: number }> {
  const client = new FluxClient({ url });
  const run = await client.startRun({ experiment: 'sdk-example', runName: 'logreg-C0.5', tags: { origin: 'examples/train-with-sdk.ts' } });

  const params = { C: 0.5, max_iter: 200, solver: 'lbfgs' };
  await run.logParams(params);
  const result = trainClassifier({
    csvText: generateDiabetesCsv(5000, 11),
    target: 'Diabetic',
    params,
    onProgress: (iteration, _max, loss) => run.logMetric('train_loss', loss, { step: iteration }),
  });
  const { accuracy, precision, recall, f1, roc_auc } = result.metrics;
  run.logMetrics({ accuracy, precision, recall, f1, roc_auc });
  await run.logArtifact(`model/${MODEL_FILE}`, serializeModel(result.model));
  await run.end();

  const version = await client.registerModel({ name: 'sdk-diabetes', source: run.modelUri('model'), runId: run.runId });
  await client.setAlias('sdk-diabetes', 'staging', version.version);

  const experiment = await client.getExperimentByName('sdk-example');
  const best = await client.searchRuns({ experimentIds: [experiment.experimentId], filter: 'metrics.f1 > 0', orderBy: ['metrics.f1 desc'], maxResults: 1 });
  const bestF1 = best.items[0]?.data.metrics.find((m) => m.key === 'f1')?.value ?? NaN;
  return { runId: run.runId, version: version.version, bestF1 };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = process.argv[2] ?? process.env.FLUXOPS_URL ?? 'http://127.0.0.1:8000';
  main(url).then(
    (r) => console.log(`run ${r.runId} registered as sdk-diabetes v${r.version} (staging); best f1 so far ${r.bestF1.toFixed(4)}`),
    (e: unknown) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
