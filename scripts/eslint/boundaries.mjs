// The layout's import rules, enforced by the lint on resolved paths (not on import strings, so
// `../../libs/audit` and `../audit` are told apart):
//  - libs/ never imports src/ or test/; src/ never imports test/;
//  - a file in one feature folder of src/ imports another feature only through that feature's
//    top-level `*.module.ts` (which re-exports what it offers); so do src/main.ts,
//    src/app.module.ts and src/bootstrap/, the composition roots.
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
const NOT_FEATURES = new Set(['bootstrap']);

function area(file) {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'libs') return { kind: 'libs' };
  if (parts[0] === 'test') return { kind: 'test' };
  if (parts[0] !== 'src') return { kind: 'other' };
  if (parts.length === 2 || NOT_FEATURES.has(parts[1])) return { kind: 'root' };
  return { kind: 'feature', feature: parts[1], rest: parts.slice(2) };
}

function isModuleFile(rest) {
  return rest.length === 1 && /\.module(\.ts)?$/.test(rest[0]);
}

export const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'libs/ stays below src/; features meet only through their modules' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const from = area(file);
    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = area(resolve(dirname(file), source));
      let message;
      if (from.kind === 'libs' && (to.kind === 'feature' || to.kind === 'root'))
        message = 'libs/ must not import src/ (move the shared part into libs/)';
      else if (from.kind === 'libs' && to.kind === 'test') message = 'libs/ must not import test/';
      else if ((from.kind === 'feature' || from.kind === 'root') && to.kind === 'test')
        message = 'src/ must not import test/';
      else if (to.kind === 'feature' && from.feature !== to.feature && from.kind !== 'test' && !isModuleFile(to.rest))
        message = `import the ${to.feature} feature only through its *.module.ts exports`;
      if (message) context.report({ node, message: `${message}: '${source}'` });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { boundaries } };
