// Writes docs/openapi.json from the built app (`npm run openapi` builds first). CI regenerates it
// and fails when the committed file differs, so the document never drifts from the routes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openapiDocument, openapiText } = await import(path.join(root, 'dist/api/index.js'));
const out = path.join(root, 'docs/openapi.json');
fs.writeFileSync(out, openapiText(await openapiDocument()));
console.log(`wrote ${path.relative(root, out)}`);
