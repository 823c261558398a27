import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../logging/index.js';
import { openPlatform } from '../platform.js';
import { buildApp } from './build-app.js';
import { stableDocument } from './openapi.js';

/**
 * The OpenAPI document of the API, built from the route declarations on a throwaway SQLite home
 * (the document depends on the routes only, never on data), in the stable form committed as
 * docs/openapi.json.
 */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxops-openapi-'));
  try {
    const platform = await openPlatform({ home });
    try {
      const app = await buildApp({ platform, logger: createLogger({ level: 'silent' }) });
      await app.ready();
      const doc = stableDocument(app.swagger() as unknown as Record<string, unknown>);
      await app.close();
      return doc;
    } finally {
      await platform.close();
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The committed file's text: two-space JSON with a final newline. */
export function openapiText(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
