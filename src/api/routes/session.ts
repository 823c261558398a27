import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FluxError } from '../../core/index.js';
import fastifyCookie from '@fastify/cookie';
import { anonymousPrincipal, principalOf, type Principal } from '../../auth/index.js';
import { CSRF_COOKIE, SESSION_COOKIE, anonymousGrants, type AuthMode, type RouteDeps } from '../../http/index.js';
import { ok } from '../schemas.js';

/** How long a web UI session lasts (the key itself stays valid until revoked). */
const SESSION_SECONDS = 12 * 3600;

const Session = Type.Object({
  auth: Type.String({ description: 'the server\'s policy: "off" (loopback: tracking and registry open) or "required"' }),
  signedIn: Type.Boolean({ description: 'whether the call came with a key (an Authorization header or the UI\'s session cookie)' }),
  key: Type.Union([Type.Object({ name: Type.String(), role: Type.String() }), Type.Null()]),
  permissions: Type.Array(Type.String(), { description: 'what the caller may do: read, write, approve, predict, admin, protected-alias' }),
});

/**
 * The web UI's sign-in. `POST /session` with an API key sets two cookies: the key itself,
 * HttpOnly and SameSite=Strict (so no script and no other site's page can read it or make the
 * browser send it), and a CSRF token the UI's script repeats in the x-fluxops-csrf header on
 * state-changing calls (route-auth.ts checks it on every route). A session is the key: revoking
 * the key ends it on every replica, with no session store to share. `GET /session` says who the
 * caller is and what it may do, so the UI can disable what the role may not use.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<RouteDeps & { authMode: AuthMode }> = async (app, { platform, authMode }) => {
  // reply.setCookie for these routes alone (the auth hook reads the session cookie from the header itself).
  await app.register(fastifyCookie, { hook: false });
  const tags = ['auth'];
  const sessionOf = (p: Principal) => ({
    auth: authMode,
    signedIn: p.keyId !== null,
    key: p.keyId === null ? null : { name: p.name ?? '', role: p.role },
    permissions: [...p.grants].sort(),
  });
  const cookie = (req: FastifyRequest, reply: FastifyReply, name: string, value: string, httpOnly: boolean, maxAge: number): void => {
    void reply.setCookie(name, value, { path: '/', httpOnly, sameSite: 'strict', secure: req.protocol === 'https', maxAge });
  };

  app.get('/session', { config: { auth: 'public' }, schema: { response: ok(Session), tags, summary: 'Who the caller is and what it may do (the web UI asks at start)' } }, async (req) => sessionOf(req.principal));

  app.post(
    '/session',
    { config: { auth: 'public' }, schema: { response: ok(Session), tags, summary: 'Sign the web UI in with an API key: sets the HttpOnly session cookie and the CSRF cookie', body: Type.Object({ key: Type.String({ minLength: 1 }) }) } },
    async (req, reply) => {
      const key = req.body.key.trim();
      let identity;
      try {
        identity = await platform.keys.verify(key);
      } catch (e) {
        // A refused key is the caller's mistake; anything else (the store down) stays the server's.
        if (!(e instanceof FluxError && e.code === 'UNAUTHENTICATED')) throw e;
        throw new FluxError('UNAUTHENTICATED', 'this API key is not valid here: it is unknown or revoked (create one with `fluxops keys create`)', { field: 'key' });
      }
      cookie(req, reply, SESSION_COOKIE, key, true, SESSION_SECONDS);
      cookie(req, reply, CSRF_COOKIE, randomBytes(24).toString('base64url'), false, SESSION_SECONDS);
      return sessionOf(principalOf(identity, anonymousGrants(authMode)));
    },
  );

  app.delete('/session', { config: { auth: 'public' }, schema: { response: ok(Session), tags, summary: 'Sign the web UI out: clears its cookies' } }, async (req, reply) => {
    cookie(req, reply, SESSION_COOKIE, '', true, 0);
    cookie(req, reply, CSRF_COOKIE, '', false, 0);
    return sessionOf(anonymousPrincipal(anonymousGrants(authMode)));
  });
};
