import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { KeyService, Principal } from '../auth/index.js';
import { admitCall, authorizationOf, CHALLENGE, challenges, type AuthPolicy, type RouteAuth } from './route-auth.js';
import { toErrorResponse } from './errors.js';
import { parseJsonBody } from './json-body.js';
import type { HttpMetrics, RouteMeter } from './metrics.js';

/** What a hot route's handler sees: the same for a call through Fastify and through the data plane. */
export interface HotCall {
  id: string;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  principal: Principal;
  /** Sets a response header. */
  header: (name: string, value: string) => void;
}

export interface HotRoute {
  method: 'POST';
  /** A Fastify path pattern with `:param` segments. */
  url: string;
  auth: RouteAuth;
  /** Answers 200 with the returned object (or what its promise gives); throws what becomes the error answer. */
  handle(call: HotCall): object | Promise<object>;
}

interface Compiled {
  route: HotRoute;
  pattern: RegExp;
  names: string[];
  meter: RouteMeter | undefined;
}

export interface DataPlaneDeps {
  keys: KeyService;
  policy: AuthPolicy;
  metrics: HttpMetrics;
  log: FastifyBaseLogger;
  bodyLimit: number;
  requestId(headers: IncomingHttpHeaders): string;
  /** A new object of the headers every answer carries (the data plane adds the request id and its own to it). */
  commonHeaders(): Record<string, string>;
}

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/**
 * The prediction routes' data plane: a lean path in front of Fastify for the calls that make up
 * a serving workload (a POST of a JSON body with a Content-Length to a hot route). Each hot route
 * is one definition mounted twice: as an ordinary Fastify route (documentation, schemas, every
 * unusual request) and here, where the call is admitted by the same `admitCall` (key, permission,
 * resource), parsed by the same parseJsonBody, answered by the same handler, refused with
 * the same error bodies and counted in the same metrics, without Fastify's per-request pipeline.
 * Anything the data plane does not take whole (another content type, a chunked or empty body, a
 * path that is not exactly the route's, percent-encoding) goes to Fastify unchanged.
 */
export class DataPlane {
  private readonly routes: Compiled[] = [];
  private deps: DataPlaneDeps | undefined;

  /** Mounts a hot route on the app (as a Fastify route) and on the data plane. */
  route(app: FastifyInstance, route: HotRoute, options: RouteShorthandOptions): void {
    app.post(route.url, { ...options, config: { ...options.config, auth: route.auth } }, async (req: FastifyRequest, reply: FastifyReply) =>
      route.handle({ id: req.id, params: req.params as Record<string, string>, headers: req.headers, body: req.body, principal: req.principal, header: (k, v) => void reply.header(k, v) }),
    );
    const prefix = (app as unknown as { prefix?: string }).prefix ?? '';
    const url = `${prefix}${route.url}`;
    const names: string[] = [];
    const source = url
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(seg.slice(1));
        return '([^/?#%]{1,1000})';
      })
      .join('/');
    this.routes.push({ route: { ...route, url }, pattern: new RegExp(`^${source}(?:\\?.*)?$`), names, meter: undefined });
  }

  private debug = false;

  /** Starts serving (the routes are all mounted by then). */
  start(deps: DataPlaneDeps): void {
    this.deps = deps;
    this.debug = ['debug', 'trace'].includes(deps.log.level);
    for (const r of this.routes) r.meter = deps.metrics.route(r.route.method, r.route.url);
  }

  /** Takes the request when it is a hot route's common case; false leaves it to Fastify. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const deps = this.deps;
    if (deps === undefined || req.method !== 'POST') return false;
    const url = req.url ?? '';
    let hit: Compiled | undefined;
    let m: RegExpExecArray | null = null;
    for (const r of this.routes) {
      m = r.pattern.exec(url);
      if (m !== null) {
        hit = r;
        break;
      }
    }
    if (hit === undefined || m === null) return false;
    const h = req.headers;
    const type = h['content-type'];
    const length = h['content-length'];
    if (type === undefined || !JSON_TYPE.test(type) || length === undefined || h['transfer-encoding'] !== undefined) return false;
    const size = Number(length);
    if (!(size > 0) || size > deps.bodyLimit) return false;
    const params: Record<string, string> = {};
    for (let i = 0; i < hit.names.length; i++) params[hit.names[i]!] = m[i + 1]!;
    this.handle(hit, req, res, params, deps);
    return true;
  }

  private handle(c: Compiled, req: IncomingMessage, res: ServerResponse, params: Record<string, string>, deps: DataPlaneDeps): void {
    const t0 = performance.now();
    const id = deps.requestId(req.headers);
    const headers = deps.commonHeaders();
    headers['x-request-id'] = id;
    let done = false;
    const finish = (status: number, body: object): void => {
      if (done) return;
      done = true;
      const text = JSON.stringify(body);
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(text));
      if (!res.destroyed) {
        res.writeHead(status, headers);
        res.end(text);
      }
      const ms = performance.now() - t0;
      c.meter!.done(status, ms / 1000);
      if (status >= 500) deps.log.error({ reqId: id, route: c.route.url, status, ms }, 'request completed');
      else if (this.debug) deps.log.debug({ reqId: id, route: c.route.url, status, ms }, 'request completed');
    };
    const fail = (e: unknown): void => {
      const { status, body, internal } = toErrorResponse(e);
      if (internal) deps.log.error({ reqId: id, err: e }, 'request failed');
      if (challenges(e)) headers['www-authenticate'] = CHALLENGE;
      finish(status, body);
    };
    // The caller is admitted before the body is read, as on the Fastify path; the handler runs
    // once both the caller is admitted and the body is in.
    let principal: Principal | undefined;
    let ended = false;
    const chunks: Buffer[] = [];
    const run = (): void => {
      if (principal === undefined || !ended || done) return;
      let body: unknown;
      try {
        body = parseJsonBody(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        return fail(e);
      }
      let out: object | Promise<object>;
      try {
        out = c.route.handle({ id, params, headers: req.headers, body, principal, header: (k, v) => (headers[k] = v) });
      } catch (e) {
        return fail(e);
      }
      if (out instanceof Promise) out.then((o) => finish(200, o), fail);
      else finish(200, out);
    };
    try {
      const admitted = admitCall(authorizationOf(req.method ?? 'POST', req.headers, c.route.auth), c.route.auth, { params } as unknown as FastifyRequest, c.route, deps.keys, deps.policy);
      if (admitted instanceof Promise) {
        admitted.then((p) => {
          principal = p;
          run();
        }, fail);
      } else principal = admitted;
    } catch (e) {
      return fail(e);
    }
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      ended = true;
      run();
    });
  }
}
