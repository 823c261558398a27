import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { FluxError } from '../core/index.js';
import { anonymousPrincipal, principalOf, type AuditLog, type Capability, type KeyIdentity, type KeyService, type Permission, type Principal } from '../auth/index.js';
import type { WriteContext } from '../events/index.js';

/**
 * Who may call a route, declared where the route is defined (`config: { auth }`):
 * `public`, a permission, or a permission plus the resource the call acts on (read from the
 * parsed request), for the rules that depend on it: protected aliases and scoped keys.
 */
export type RouteAuth =
  | 'public'
  | Permission
  | {
      permission: Permission;
      resource: (req: FastifyRequest) => ResourceRef | undefined;
      /**
       * `url`: the resource is known from the path alone (an endpoint's name; the function reads
       * `req.params` and nothing else), so it is checked with the key, before the body is read and
       * without a hook stage of its own: the prediction routes' hot path, which the data plane
       * also serves. `body` (the default): checked once the body is parsed.
       */
      from?: 'url' | 'body';
      /**
       * The resource only narrows scoped keys (a run a run-scoped key writes to): an unscoped
       * caller skips the check, so the metric-ingest routes do no extra work for ordinary keys.
       */
      scopedOnly?: boolean;
    };

export interface ResourceRef {
  /** A registered model the call serves or changes (checked against a key's scopes). */
  model?: string | undefined;
  /** An endpoint the call predicts on: a key scoped to it, or to every model behind it, may. */
  endpoint?: string | undefined;
  /** The models behind that endpoint. */
  models?: readonly string[] | undefined;
  /** When set, only keys of these roles may make the call (an endpoint's predict policy). */
  roles?: readonly string[] | undefined;
  /** An alias (or stage) the call moves; protected ones need the `protected-alias` capability. */
  alias?: string | undefined;
  /** A tracking run the call writes to (checked against a run-scoped key). */
  run?: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The caller, set on every matched route before its body is read. */
    principal: Principal;
  }
}

export type AuthMode = 'required' | 'off';

export interface AuthPolicy {
  /**
   * `required`: every non-public route needs a key whose role grants its permission. `off`: reads,
   * tracking and registry writes are open (as MLflow's server is); predictions, approvals and key
   * management still need a key. `off` is meant for a server bound to loopback.
   */
  mode: AuthMode;
  /** Aliases (and stages) that only admin keys (and approved gates) may move. Lower case. */
  protectedAliases: ReadonlySet<string>;
}

export interface RouteEntry {
  method: string;
  url: string;
  auth: RouteAuth;
}

/** Capabilities an anonymous caller has when auth is off. */
const OPEN_GRANTS: ReadonlySet<Capability> = new Set<Capability>(['read', 'write', 'protected-alias']);
const NO_GRANTS: ReadonlySet<Capability> = new Set<Capability>();
const DEFAULT_AUTH = Symbol('fluxops.defaultRouteAuth');
const AUDITED: ReadonlySet<Permission> = new Set<Permission>(['write', 'approve', 'admin']);
/** Fields of the path, query and body that name what a call acts on, for the audit log. */
const TARGET_FIELDS = ['experiment_id', 'experimentId', 'run_id', 'runId', 'run_uuid', 'name', 'new_name', 'newName', 'version', 'alias', 'stage', 'key', 'keyId', 'key_id', 'model_id', 'modelId', 'path', '*'];

export function permissionOf(auth: RouteAuth): Permission | 'public' {
  return typeof auth === 'object' ? auth.permission : auth;
}

/**
 * Routes in this scope that declare nothing get `auth` (for routes a plugin registers, such as
 * the API docs). Set it only on a scope of its own.
 */
export function setScopeRouteAuth(scope: FastifyInstance, auth: RouteAuth): void {
  (scope as unknown as Record<symbol, RouteAuth>)[DEFAULT_AUTH] = auth;
}

/**
 * Installs the auth mechanism on an app before any route is added: every route must declare who
 * may call it (an undeclared route fails at start, so it cannot ship), the check runs on the
 * matched route after routing (never on URL text), and state-changing calls are audited (see
 * `auditOnSend` for when an entry is durable). Returns the route table the enumeration test walks.
 */
export function installRouteAuth(app: FastifyInstance, deps: { keys: KeyService; audit: AuditLog; policy: AuthPolicy }): RouteEntry[] {
  const { keys, audit, policy } = deps;
  const table: RouteEntry[] = [];
  app.decorateRequest('principal', null as unknown as Principal);

  const auditOnSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    // State-changing calls only: a GET on an admin route (listing keys, the audit log) is a read.
    if (req.method === 'GET' || req.method === 'HEAD') return payload;
    const permission = permissionOf(req.routeOptions.config.auth!);
    const p = req.principal;
    const written = audit.record({
      time: Date.now(),
      keyId: p.keyId,
      keyName: p.name,
      role: p.role,
      method: req.method,
      route: req.routeOptions.url ?? req.url,
      target: auditTarget(req),
      status: reply.statusCode,
      requestId: req.id,
    });
    const failed = (e: unknown) => req.log.error({ err: e }, 'audit log write failed');
    // Key, role and approval calls are durable in the audit log before they are answered. Tracking
    // and registry writes (the volume: one per logged metric) are answered at once and their entry
    // goes in the next group commit, a few ms later; waiting for it would put a second commit on
    // every call's path. A crash in between can lose such an entry, never the write itself.
    if (permission === 'write') {
      written.catch(failed);
      return payload;
    }
    try {
      await written;
    } catch (e) {
      failed(e);
    }
    return payload;
  };

  app.addHook('onRoute', function (this: FastifyInstance, opts: RouteOptions) {
    const declared = opts.config?.auth ?? (this as unknown as Record<symbol, RouteAuth | undefined>)[DEFAULT_AUTH];
    const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
    if (declared === undefined) {
      throw new Error(`route ${methods.join(',')} ${opts.url} declares no auth: add config: { auth: 'public' | <permission> } where it is defined`);
    }
    opts.config = { ...opts.config, auth: declared };
    for (const method of methods) table.push({ method, url: opts.url, auth: declared });
    // Route-level hooks only where they have work: the resource rules on routes that name a
    // resource; the audit on routes that may change state. Reads and predictions (the hot path)
    // get neither.
    const perm = permissionOf(declared);
    if (typeof declared === 'object' && declared.from !== 'url') {
      const resource = declared.resource;
      const scopedOnly = declared.scopedOnly === true;
      const checkHook = (req: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void): void => {
        if (scopedOnly && req.principal.scopes.length === 0) return done();
        try {
          checkResource(req.principal, resource(req), policy, perm);
        } catch (e) {
          return done(e as Error);
        }
        done();
      };
      opts.preHandler = [...hooksOf(opts.preHandler), checkHook];
    }
    if (perm === 'public' || !AUDITED.has(perm)) return;
    opts.onSend = [...hooksOf(opts.onSend), auditOnSend];
  });

  // A callback hook, not an async one: a key seen in the last second (the common case) is
  // checked without a promise on every request; only a lookup in the store waits.
  app.addHook('onRequest', (req, reply, done) => {
    // Anonymous until a key is verified, so a refused call is still audited as such.
    req.principal = ANONYMOUS;
    const auth = req.routeOptions.config.auth;
    // Unmatched requests reach a not-found handler that answers 404/501 and touches nothing.
    if (auth === undefined) return done();
    const refuse = (e: unknown): void => {
      if (challenges(e)) void reply.header('www-authenticate', CHALLENGE);
      done(e as Error);
    };
    let admitted: Principal | Promise<Principal>;
    try {
      admitted = admitCall(authorizationOf(req.method, req.headers, auth), auth, req, { method: req.method, url: req.routeOptions.url ?? req.url }, keys, policy, (p) => (req.principal = p));
    } catch (e) {
      return refuse(e);
    }
    if (admitted instanceof Promise) admitted.then(() => done(), refuse);
    else done();
  });

  return table;
}

/** What a caller without a key may do under a policy (every caller with a key may do this too). */
export function anonymousGrants(mode: AuthMode): ReadonlySet<Capability> {
  return mode === 'off' ? OPEN_GRANTS : NO_GRANTS;
}

const ANONYMOUS_OPEN = anonymousPrincipal(OPEN_GRANTS);
const ANONYMOUS = anonymousPrincipal(NO_GRANTS);
/** Principals per verified identity (the key service hands out one identity object per cache entry). */
const principals = { open: new WeakMap<KeyIdentity, Principal>(), closed: new WeakMap<KeyIdentity, Principal>() };

/**
 * The caller of a state-changing handler, passed to the service method it calls: the events the
 * change appends name its key as their actor.
 */
export function callerOf(req: FastifyRequest): WriteContext {
  return { actor: req.principal.name };
}

/** The WWW-Authenticate challenge sent with a refusal for lack of a key or of a permission. */
export const CHALLENGE = 'Bearer realm="fluxops"';

/** Refusals that carry the challenge. */
export function challenges(e: unknown): boolean {
  return e instanceof FluxError && (e.code === 'UNAUTHENTICATED' || e.code === 'PERMISSION_DENIED');
}

/**
 * Admits one call of a route, or throws (rejects) the 401/403 saying why: authenticates the
 * caller, checks the route's permission and, for a resource known from the URL, the resource.
 * Without waiting when there is no key or the key was verified in the last second. `identified`
 * sees the caller as soon as it is known, so a refused call is audited with its key. The Fastify
 * request hook and the data plane both admit calls through here.
 */
export function admitCall(
  authorization: string | undefined,
  auth: RouteAuth,
  req: FastifyRequest,
  route: { method: string; url: string },
  keys: KeyService,
  policy: AuthPolicy,
  identified: (p: Principal) => void = () => {},
): Principal | Promise<Principal> {
  const permission = permissionOf(auth);
  const check = (p: Principal): Principal => {
    identified(p);
    checkPermission(p, auth, permission, policy, route);
    if (typeof auth === 'object' && auth.from === 'url' && !(auth.scopedOnly === true && p.scopes.length === 0)) checkResource(p, auth.resource(req), policy, permission);
    return p;
  };
  const p = authenticate(authorization, keys, policy, permission === 'public');
  return p instanceof Promise ? p.then(check) : check(p);
}

/** Throws 401/403 unless the caller may call the route. */
function checkPermission(p: Principal, auth: RouteAuth, permission: Permission | 'public', policy: AuthPolicy, route: { method: string; url: string }): void {
  if (permission === 'public') return;
  if (p.grants.has(permission)) {
    // A scoped key acts only where the route names the resource its scope is checked against.
    if (p.scopes.length > 0 && typeof auth !== 'object') checkResource(p, undefined, policy, permission);
    return;
  }
  if (p.keyId === null) {
    throw new FluxError('UNAUTHENTICATED', `this call needs an API key with ${permission} permission: send "Authorization: Bearer <api key>"`);
  }
  throw new FluxError('PERMISSION_DENIED', `key '${p.name}' (role ${p.role}) lacks ${permission} permission for ${route.method} ${route.url}`);
}

/**
 * The caller: a verified key, or anonymous with what the policy grants anonymous callers. Without
 * waiting when there is no key or the key was verified within the last second.
 */
function authenticate(authorization: string | undefined, keys: KeyService, policy: AuthPolicy, isPublic: boolean): Principal | Promise<Principal> {
  const anonymous = policy.mode === 'off' ? ANONYMOUS_OPEN : ANONYMOUS;
  // A public route answers a caller with a bad key as it answers anyone.
  const refused = (e: unknown): Principal => {
    if (isPublic) return anonymous;
    throw e;
  };
  const principalFor = (identity: KeyIdentity): Principal => {
    const cache = policy.mode === 'off' ? principals.open : principals.closed;
    let p = cache.get(identity);
    if (p === undefined) {
      p = principalOf(identity, anonymous.grants);
      cache.set(identity, p);
    }
    return p;
  };
  try {
    const token = credentialsOf(authorization);
    if (token === undefined) return anonymous;
    const cached = keys.verifyCached(token);
    if (cached !== undefined) return principalFor(cached);
    return keys.verify(token).then(principalFor, refused);
  } catch (e) {
    return refused(e);
  }
}

/** The web UI's session cookie: the API key it signed in with (HttpOnly, SameSite=Strict; api/routes/session.ts sets it). */
export const SESSION_COOKIE = 'fluxops_session';
/** The CSRF token cookie set beside it (readable by the UI's script), which state-changing calls repeat in CSRF_HEADER. */
export const CSRF_COOKIE = 'fluxops_csrf';
export const CSRF_HEADER = 'x-fluxops-csrf';
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The credential a call comes with: its Authorization header, or else the web UI's session
 * cookie. A state-changing call that relies on the cookie must repeat the CSRF cookie in the
 * x-fluxops-csrf header (double-submit: another site's page can make the browser send the cookie,
 * never read it); without it a non-public route refuses the call, and a public one treats the
 * caller as anonymous. The auth hook and the data plane both call it, so it covers every route.
 */
export function authorizationOf(method: string, headers: IncomingHttpHeaders, auth: RouteAuth): string | undefined {
  const header = headers.authorization;
  if (header !== undefined && header !== '') return header;
  const raw = headers.cookie;
  // Most API calls carry no cookie: no parsing for them.
  if (raw === undefined || !raw.includes(SESSION_COOKIE)) return undefined;
  const cookies = fastifyCookie.parse(raw);
  const session = cookies[SESSION_COOKIE];
  if (session === undefined || session === '') return undefined;
  if (!SAFE_METHODS.has(method)) {
    const expected = cookies[CSRF_COOKIE];
    const sent = headers[CSRF_HEADER];
    if (expected === undefined || expected === '' || typeof sent !== 'string' || !sameText(expected, sent)) {
      if (permissionOf(auth) === 'public') return undefined;
      throw new FluxError('PERMISSION_DENIED', `this call came with the web UI's session cookie but without its CSRF token (the ${CSRF_HEADER} header must repeat the ${CSRF_COOKIE} cookie); reload the UI, or send the API key in an Authorization header`);
    }
  }
  return `Bearer ${session}`;
}

/** Equal strings, compared in time independent of where they differ. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The API key in an Authorization header: `Bearer <key>` (MLflow's MLFLOW_TRACKING_TOKEN), or
 * HTTP Basic with the key as the password (MLFLOW_TRACKING_USERNAME/PASSWORD).
 */
export function credentialsOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer !== null) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
  }
  throw new FluxError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <api key>", or HTTP Basic with the API key as the password');
}

function checkResource(p: Principal, ref: ResourceRef | undefined, policy: AuthPolicy, permission: Permission | 'public'): void {
  if (ref?.alias !== undefined && policy.protectedAliases.has(ref.alias.toLowerCase()) && !p.grants.has('protected-alias')) {
    throw new FluxError(
      'PERMISSION_DENIED',
      `'${ref.alias}' is a protected alias: moving it needs an admin key (or an approved gate)${p.keyId === null ? '' : ` (key '${p.name}' is ${p.role})`}`,
    );
  }
  if (ref?.roles !== undefined && !ref.roles.includes(p.role)) {
    throw new FluxError('PERMISSION_DENIED', `${ref.endpoint !== undefined ? `endpoint '${ref.endpoint}'` : 'this call'} takes predictions only from keys with role ${ref.roles.join(' or ')}${p.keyId === null ? '' : ` (key '${p.name}' is ${p.role})`}`);
  }
  // A run-scoped key (a pipeline step's token) reads like a viewer and writes only to its runs.
  if (p.scopes.length > 0 && p.scopes.every((s) => s.kind === 'run')) {
    if (permission === 'read' || (ref?.run !== undefined && p.scopes.some((s) => s.name === ref.run))) return;
    throw new FluxError('PERMISSION_DENIED', `key '${p.name}' may only write to run ${p.scopes.map((s) => s.name).join(', ')}${ref?.run !== undefined ? `, not ${ref.run}` : ''}`);
  }
  if (p.scopes.length > 0) {
    const has = (kind: 'model' | 'endpoint' | 'run', name: string | undefined): boolean => name !== undefined && p.scopes.some((s) => s.kind === kind && s.name === name);
    const models = ref?.models ?? [];
    const allowed = has('model', ref?.model) || has('endpoint', ref?.endpoint) || (models.length > 0 && models.every((m) => has('model', m)));
    if (!allowed) {
      const what = ref?.endpoint !== undefined ? `endpoint '${ref.endpoint}'` : ref?.model !== undefined ? `model '${ref.model}'` : 'this route';
      throw new FluxError('PERMISSION_DENIED', `key '${p.name}' is scoped to ${p.scopes.map((s) => `${s.kind}:${s.name}`).join(', ')} and may not act on ${what}`);
    }
  }
}

function auditTarget(req: FastifyRequest): string {
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const source of [req.params, req.query, req.body]) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    const rec = source as Record<string, unknown>;
    for (const f of TARGET_FIELDS) {
      const v = rec[f];
      if ((typeof v === 'string' || typeof v === 'number') && !seen.has(f)) {
        seen.add(f);
        parts.push(`${f === '*' ? 'path' : f}=${String(v).slice(0, 200)}`);
      }
    }
  }
  return parts.join(' ').slice(0, 1000);
}



function hooksOf<T>(h: T | T[] | undefined): T[] {
  return h === undefined ? [] : Array.isArray(h) ? h : [h];
}

/**
 * The auth of a route that writes to the run named in its JSON body (`run_id`, or MLflow's older
 * `run_uuid`): a run-scoped key may call it for its own run only.
 */
export const WRITES_RUN_IN_BODY: RouteAuth = {
  permission: 'write',
  scopedOnly: true,
  resource: (req) => {
    const b = req.body as { run_id?: unknown; run_uuid?: unknown } | null | undefined;
    const v = typeof b === 'object' && b !== null ? (b.run_id ?? b.run_uuid) : undefined;
    return { run: typeof v === 'string' ? v : undefined };
  },
};

/** The auth of a route that writes to the run in its path (`:runId`), checked before the body is read. */
export const WRITES_RUN_IN_PATH: RouteAuth = {
  permission: 'write',
  from: 'url',
  scopedOnly: true,
  resource: (req) => ({ run: (req.params as { runId?: string }).runId }),
};
