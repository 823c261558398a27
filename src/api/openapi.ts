import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { permissionOf, type RouteEntry } from '../http/index.js';

/** The name a trailing `*` wildcard gets in the OpenAPI document (`{*}` is not a valid path template). */
export const WILDCARD_PARAM = 'path';

/**
 * @fastify/swagger options for the API document. The route-level `transform`:
 * - names a trailing wildcard (`/artifacts/*`) `{path}`, renaming its schema parameter to match;
 * - derives `security` from the route's declared auth, so the document says which calls need a
 *   key without every route repeating it (public routes get `security: []`).
 * The route table is the one `installRouteAuth` fills; routes that inherit their scope's auth
 * (the docs plugin's) are found there, not in their own config.
 */
export function openapiOptions(routeTable: readonly RouteEntry[]): FastifyDynamicSwaggerOptions {
  const authOf = (method: string, url: string) => routeTable.find((r) => r.url === url && r.method === method)?.auth;
  return {
    openapi: {
      info: { title: 'FluxOps API', version: '0.1.0', description: 'Tracking, registry and serving API of FluxOps, and the MLflow REST API 2.0 (tag `mlflow`).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer flx_…`' } } },
    },
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      const auth = route.config?.auth ?? authOf(method, url);
      const out: Record<string, unknown> = { ...schema };
      if (auth !== undefined && out.security === undefined) out.security = permissionOf(auth) === 'public' ? [] : [{ bearer: [] }];
      let docUrl = url;
      if (url.endsWith('/*')) {
        docUrl = `${url.slice(0, -1)}:${WILDCARD_PARAM}`;
        const params = out.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
        if (params?.properties?.['*'] !== undefined) {
          const { '*': rest, ...others } = params.properties;
          out.params = {
            ...params,
            properties: { ...others, [WILDCARD_PARAM]: { ...(rest as object), description: 'the rest of the path; may contain /' } },
            required: (params.required ?? []).map((r) => (r === '*' ? WILDCARD_PARAM : r)),
          };
        }
      }
      return { schema: out, url: docUrl };
    },
  };
}

/**
 * The document as committed in docs/openapi.json: paths and component schemas in sorted order,
 * so the file changes only when an API does.
 */
export function stableDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const sortKeys = (o: unknown) => (o !== null && typeof o === 'object' ? Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : o);
  const paths = sortKeys(doc.paths) as Record<string, unknown> | undefined;
  const components = doc.components as Record<string, unknown> | undefined;
  return {
    ...doc,
    ...(components !== undefined ? { components: { ...components, ...(components.schemas !== undefined ? { schemas: sortKeys(components.schemas) } : {}) } } : {}),
    ...(paths !== undefined ? { paths: Object.fromEntries(Object.entries(paths).map(([p, ops]) => [p, sortKeys(ops)])) } : {}),
  };
}
