import type { FastifyInstance, FastifyRequest } from 'fastify';

/** JSON bodies of MLflow requests as text, for error messages that must print a value as sent. */
const rawBodies = new WeakMap<FastifyRequest, string>();

/**
 * Replaces the scope's JSON parser by Fastify's own default one (same limits, same refusal of
 * `__proto__` and `constructor` keys, same errors) that also keeps the body text.
 */
export function keepRawJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    rawBodies.set(req, text);
    void parse(req, text, done);
  });
}

/** The JSON body of a request as sent, when the scope keeps them (see `keepRawJsonBodies`). */
export function rawJsonBodyOf(req: FastifyRequest): string | undefined {
  return rawBodies.get(req);
}
