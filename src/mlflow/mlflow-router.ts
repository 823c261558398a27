import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { toErrorResponse, type RouteAuth } from '../http/index.js';
import { MlflowFields } from './mlflow-fields.js';

/**
 * The error handler of the MLflow routes: the project's one mapping to `{error_code, message}`,
 * except that a request on a deleted run or experiment is INVALID_PARAMETER_VALUE, the code
 * MLflow's stores use for it (FluxOps' own API says INVALID_STATE).
 */
export function mlflowErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body, internal } = toErrorResponse(err);
  if (body.error_code === 'INVALID_STATE') body.error_code = 'INVALID_PARAMETER_VALUE';
  if (internal) req.log.error({ err }, 'request failed');
  else req.log.debug({ code: body.error_code, msg: body.message }, 'request rejected');
  void reply.status(status).send(body);
}

export type MlflowHandler = (f: MlflowFields, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Sets MLflow's error handler on a route scope and returns its route registrar: each route gets
 * its fields read the MLflow way and is documented under the `mlflow` tag (hidden for /ajax-api).
 */
export function mlflowRouter(app: FastifyInstance, hidden: boolean) {
  app.setErrorHandler(mlflowErrorHandler);
  return (methods: HTTPMethods | HTTPMethods[], url: string, auth: RouteAuth, summary: string, description: string, handler: MlflowHandler): void => {
    app.route({
      method: methods,
      url,
      config: { auth },
      schema: { hide: hidden, tags: ['mlflow'], summary, description },
      handler: (req, reply) => handler(MlflowFields.of(req), req, reply),
    });
  };
}
