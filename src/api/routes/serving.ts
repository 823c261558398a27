import type { FastifyPluginAsync } from 'fastify';
import { FluxError } from '../../core/index.js';
import { pingDatabase } from '../../storage/db/index.js';
import type { HotCall, HttpMetrics, RouteDeps } from '../../http/index.js';
import type { PredictResult, RoutedResult } from '../../serving/index.js';
import { ErrorBody, Health, ModelInfo, ok, Prediction } from '../schemas.js';

/**
 * The reference design's prediction API: health, model-info (anonymous) and predict (a key), on
 * what the server serves by default: the endpoint of `--endpoint` (through its traffic split), or
 * the model of `--model`.
 */
export const servingRoutes: FastifyPluginAsync<RouteDeps> = async (app, { platform, served, metrics, plane }) => {
  app.get('/api/health', { config: { auth: 'public' }, schema: { response: { 200: Health, 503: Health, '4xx': ErrorBody, '5xx': ErrorBody }, tags: ['serving'], summary: 'Store and model readiness (anonymous)' } }, async (req, reply) => {
    let storeOk = true;
    let storeError: string | undefined;
    try {
      await pingDatabase(platform.db);
    } catch (e) {
      storeOk = false;
      // The driver's text can name hosts, users and files: only callers with a key see it.
      storeError = req.principal.keyId !== null ? (e as Error).message : undefined;
    }
    const t = served.current();
    const ready = t?.ready ?? false;
    const model = !served.configured
      ? { configured: false, ready: false }
      : {
          configured: true,
          ready,
          ref: t?.ref ?? served.ref,
          name: t?.main?.name,
          version: t?.main?.version,
          error: ready ? undefined : (t?.error ?? `endpoint '${served.endpoint ?? ''}' does not exist`),
          endpoint: served.endpoint,
          deployment: t?.mainDeployment,
        };
    const ok = storeOk && (!served.configured || ready);
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'unavailable',
      store: { ok: storeOk, backend: platform.db.dialect, error: storeError },
      model,
    };
  });

  app.get('/api/model-info', { config: { auth: 'public' }, schema: { response: ok(ModelInfo), tags: ['serving'], summary: 'Served model, version, alias, signature and metrics (anonymous)' } }, async () => {
    const t = served.require();
    const m = t.main;
    if (m === undefined) throw new FluxError('TEMPORARILY_UNAVAILABLE', `${t.endpoint !== undefined ? `endpoint ${t.name}` : `model ${t.ref ?? t.name}`} has no model loaded${t.error ? `: ${t.error}` : ''}`);
    return {
      model: m.name,
      version: m.version,
      alias: m.alias,
      signature: m.info.signature,
      kind: m.predictor.kind,
      flavor: m.flavor,
      classes: m.predictor.classes,
      metrics: m.info.metrics,
      trained_at: m.trainedAt,
      registered_at: new Date(m.info.creationTime).toISOString(),
      run_id: m.info.runId,
      endpoint: t.endpoint,
      deployment: t.mainDeployment,
    };
  });

  plane.route(
    app,
    {
      method: 'POST',
      url: '/api/predict',
      // A scoped key may predict only on what it names: the default endpoint (or every model
      // behind it, within its predict roles), or the served model.
      auth: { permission: 'predict', resource: () => served.resource(), from: 'url' },
      handle: (call) => answerPrediction(served.predict(call.body, call.headers, call.id), call, metrics),
    },
    {
      schema: {
        response: ok(Prediction),
        tags: ['serving'],
        summary: 'Predict classes and probabilities, or values of a regressor (records in "inputs", or "columns" + "data"), on the default endpoint or model',
      },
    },
  );
};

/** The answer of a prediction route: counted by class, in the answer's shape; without a promise when the prediction needed none. */
export function answerPrediction(out: PredictResult | RoutedResult | Promise<PredictResult | RoutedResult>, call: HotCall, metrics: HttpMetrics): object | Promise<object> {
  const answer = (result: PredictResult | RoutedResult) => {
    metrics.countPredictions(result);
    return predictionBody(call.id, result, call.header);
  };
  return out instanceof Promise ? out.then(answer) : answer(out);
}

/**
 * A prediction answer, built field by field (an object spread of results of several shapes is a
 * slow generic copy on every request). A routed answer names its deployment and version in
 * headers too.
 */
export function predictionBody(requestId: string, r: PredictResult | RoutedResult, header: (name: string, value: string) => void) {
  const routed = 'deployment' in r ? r : undefined;
  if (routed !== undefined) {
    header('x-fluxops-deployment', routed.deployment);
    header('x-fluxops-model-version', `${r.model}/${r.version}`);
  }
  return {
    request_id: requestId,
    model: r.model,
    version: r.version,
    classes: r.classes,
    predictions: r.predictions,
    probabilities: r.probabilities,
    endpoint: routed?.endpoint,
    deployment: routed?.deployment,
  };
}
