import type { FastifyPluginAsync } from 'fastify';
import type { MlflowRouteDeps } from './index.js';

/** Filled in by the MLflow adapter work (issue 3). */
export const mlflowRegistryRoutes: FastifyPluginAsync<MlflowRouteDeps> = async () => {};
