// Writes docs/openapi.json from the built app, and docs/pipeline.schema.json (the pipeline file's
// JSON schema) from its TypeBox definition (`npm run openapi` builds first). CI regenerates both
// and fails when a committed file differs, so the documents never drift from the code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openapiDocument, openapiText } = await import(path.join(root, 'dist/api/index.js'));
const { pipelineSchemaText } = await import(path.join(root, 'dist/pipelines/index.js'));
const out = path.join(root, 'docs/openapi.json');
fs.writeFileSync(out, openapiText(await openapiDocument()));
console.log(`wrote ${path.relative(root, out)}`);
const schemaOut = path.join(root, 'docs/pipeline.schema.json');
fs.writeFileSync(schemaOut, pipelineSchemaText());
console.log(`wrote ${path.relative(root, schemaOut)}`);
