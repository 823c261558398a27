import path from 'node:path';

/**
 * A local ESLint rule: a bounded context under src/ (tracking/, registry/, storage/db/ …) is used
 * by other contexts only through its index.ts, its public surface (GUIDE §2.1). Files at the top of
 * src/ (the composition root) follow the same rule.
 */
const NESTED = new Set(['storage']);

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
      context.report({ node: node.source, messageId: 'internal', data: { source, context: theirs } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { 'context-imports': contextImports } };
