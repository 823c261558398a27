import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { setScopeRouteAuth } from '../../http/index.js';

/**
 * Where `npm run build` puts the web UI (ui/vite.config.ts): dist/ui at the package root, three
 * folders above this module in src/ and in dist/; FLUXOPS_UI_DIR serves another build instead (a
 * UI developer's own `vite build --outDir`).
 */
export const UI_DIR = process.env.FLUXOPS_UI_DIR !== undefined && process.env.FLUXOPS_UI_DIR !== '' ? path.resolve(process.env.FLUXOPS_UI_DIR) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/ui');

/** Whether this installation has a built web UI to serve. */
export function uiBuilt(dir = UI_DIR): boolean {
  return fs.existsSync(path.join(dir, 'index.html'));
}

/** A line for the CLI's banners: where the web UI is, or how to build it. */
export function uiBanner(url: string): string {
  return uiBuilt() ? `web UI: ${url}/` : 'web UI: not built in this installation (run `npm run build`)';
}

/** The UI's pages (the app routes on the client; the server answers each with index.html). */
export const UI_PAGES = ['/', '/runs', '/runs/:id', '/compare', '/models', '/models/:name', '/models/:name/versions/:version', '/endpoints', '/endpoints/:name', '/pipelines', '/pipelines/runs/:id', '/sweeps', '/sweeps/:id', '/monitoring', '/monitoring/:name', '/admin', '/sign-in'] as const;

/**
 * The web UI at / on the API's origin: its pages are index.html (never cached, so a new build is
 * picked up), its hashed assets are immutable. Public routes: the pages hold no data, which the
 * app fetches from the API with the caller's own key or session. A Content-Security-Policy keeps
 * the pages to this origin's scripts and styles.
 */
export async function uiRoutes(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const dir = opts.dir ?? UI_DIR;
  setScopeRouteAuth(app, 'public');
  const built = uiBuilt(dir);
  const security = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin');
  if (built) {
    await app.register(fastifyStatic, {
      root: path.join(dir, 'assets'),
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
      list: false,
      // Only the index page is sent from outside the assets folder.
      allowedPath: (pathName) => !pathName.includes('..'),
    });
  }
  for (const url of UI_PAGES) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      if (!built) {
        return security(reply)
          .code(404)
          .type('text/plain; charset=utf-8')
          .send('The web UI is not built in this installation: run `npm run build` in the FluxOps folder, then restart the server.\n');
      }
      return security(reply).header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
    });
  }
}
