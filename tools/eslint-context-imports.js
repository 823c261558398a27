import path from 'node:path';

/**
 * A local ESLint rule: a bounded context under src/ (tracking/, registry/, storage/db/ …) is used
 * by other contexts only through its index.ts, its public surface (GUIDE §2.1). Files at the top of
 * src/ (the composition root) follow the same rule.
 */
const NESTED = new Set(['storage']);

/**
 * Modules a context offers beside its index.ts because they are pure (they load nothing but core):
 * the SDK (`src/client`) imports these, since a context's index also loads its store and driver.
 */
export const PURE_SURFACES = new Set(['registry/model-ref.js']);

/** What `src/client` may load at run time: itself, core, and the pure surfaces. */
const CLIENT_RUNTIME = new Set(['client', 'core/index.js', ...PURE_SURFACES]);

function contextOf(srcRoot, file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(path.sep);
  if (parts.length < 2) return '';
  if (NESTED.has(parts[0]) && parts.length >= 3) return `${parts[0]}/${parts[1]}`;
  return parts[0];
}

export const contextImports = {
  meta: {
    type: 'problem',
    docs: { description: 'contexts import each other only through index.ts' },
    messages: { internal: "'{{source}}' reaches inside the {{context}} context; import from its index.js" },
    schema: [],
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    const srcRoot = path.join(context.cwd ?? process.cwd(), 'src');
    const own = contextOf(srcRoot, file);
    if (own === undefined) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const theirs = contextOf(srcRoot, target);
      if (theirs === undefined || theirs === '' || theirs === own) return;
      if (path.relative(path.join(srcRoot, theirs), target) === 'index.js') return;
      if (PURE_SURFACES.has(path.relative(srcRoot, target).split(path.sep).join('/'))) return;
      context.report({ node: node.source, messageId: 'internal', data: { source, context: theirs } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

/**
 * `fluxops/client` must load no server code (no store, driver, logger or HTTP server): its run-time
 * imports reach only the client itself, core and the pure surfaces; `import type` is erased. An
 * import whose names are all inline `type` ones still loads its module under verbatimModuleSyntax,
 * so it counts as run time. test/e2e/sdk-imports.test.ts checks the built package the same way.
 */
export const clientImports = {
  meta: {
    type: 'problem',
    docs: { description: 'the SDK loads no server code at run time' },
    messages: { server: "'{{source}}' is loaded at run time by the SDK; import core, a pure module, or use `import type`" },
    schema: [],
  },
  create(context) {
    const file = context.physicalFilename ?? context.filename;
    const srcRoot = path.join(context.cwd ?? process.cwd(), 'src');
    if (contextOf(srcRoot, file) !== 'client') return {};
    const check = (node) => {
      if (node.importKind === 'type' || node.exportKind === 'type') return;
      const source = node.source?.value;
      if (typeof source !== 'string') return;
      if (!source.startsWith('.')) {
        if (source.startsWith('node:')) return;
        context.report({ node: node.source, messageId: 'server', data: { source } });
        return;
      }
      const rel = path.relative(srcRoot, path.resolve(path.dirname(file), source)).split(path.sep).join('/');
      if (CLIENT_RUNTIME.has(rel) || rel.startsWith('client/')) return;
      context.report({ node: node.source, messageId: 'server', data: { source } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { 'context-imports': contextImports, 'client-imports': clientImports } };
