import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: query strings and path parameters arrive as text, so their numbers and lists
 * are coerced; JSON bodies are typed already, so they are validated strictly — a metric value of
 * `true` or `null` is refused rather than stored as 1 or 0.
 */
export function schemaValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const base = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false } as const;
  const coercing = new Ajv({ ...base, coerceTypes: 'array' });
  const strict = new Ajv({ ...base, coerceTypes: false });
  return ({ schema, httpPart }) => {
    const fn: ValidateFunction = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    return fn as ReturnType<FastifySchemaCompiler<FastifySchema>>;
  };
}
