import type { FastifyPluginAsync } from 'fastify';
import { FluxError } from '../../core/index.js';
import { pingDatabase } from '../../storage/db/index.js';
import type { RouteDeps } from '../../http/index.js';
import { ErrorBody, Health, ModelInfo, ok, Prediction } from '../schemas.js';

/** The reference design's prediction API: health, model-info (anonymous) and predict (bearer key). */
export const servingRoutes: FastifyPluginAsync<RouteDeps> = async (app, { platform, modelServer, metrics }) => {
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
    const m = modelServer?.model;
    const model =
      modelServer === undefined
        ? { configured: false, ready: false }
        : { configured: true, ready: m !== undefined, ref: modelServer.ref, name: m?.name, version: m?.version, error: m ? undefined : modelServer.error };
    const ok = storeOk && (modelServer === undefined || m !== undefined);
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'unavailable',
      store: { ok: storeOk, backend: platform.db.dialect, error: storeError },
      model,
    };
  });

  app.get('/api/model-info', { config: { auth: 'public' }, schema: { response: ok(ModelInfo), tags: ['serving'], summary: 'Served model, version, alias, signature and metrics (anonymous)' } }, async () => {
    const m = modelServer?.model;
    if (modelServer === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', 'this server does not serve a model (start it with --model name@alias)');
    if (m === undefined) throw new FluxError('TEMPORARILY_UNAVAILABLE', `model ${modelServer.ref} is not loaded${modelServer.error ? `: ${modelServer.error}` : ''}`);
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
    };
  });

  app.post(
    '/api/predict',
    {
      // A scoped key may predict only on the models it names: the served model's name is the resource.
      config: { auth: { permission: 'predict', resource: () => ({ model: modelServer?.modelName }) } },
      schema: {
        response: ok(Prediction),
        tags: ['serving'],
        summary: 'Predict classes and probabilities, or values of a regressor (records in "inputs", or "columns" + "data")',
      },
    },
    async (req) => {
      if (modelServer === undefined) throw new FluxError('RESOURCE_DOES_NOT_EXIST', 'this server does not serve a model (start it with --model name@alias)');
      const result = await modelServer.predict(req.body);
      metrics.countPredictions(result);
      return { request_id: req.id, ...result };
    },
  );
};
