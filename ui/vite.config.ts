// The web UI's build (`npm run build` runs it): Preact through esbuild's JSX transform, no other
// plugin. The output goes to dist/ui, which the server serves at / (src/api/routes/ui-routes.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: { outDir: path.join(root, '../dist/ui'), emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
});
