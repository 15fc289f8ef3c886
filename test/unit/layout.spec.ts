import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layout rules of the design notes, checked on the code itself: the lint refuses imports
 * across the boundaries, and the folders of libs/ import each other without a cycle.
 */
const ROOT = join(__dirname, '..', '..');

function lintText(code: string, filePath: string): string {
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', filePath],
      { cwd: ROOT, input: code, encoding: 'utf8' },
    );
    return '';
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`;
  }
}

describe('import boundaries (lint)', () => {
  it('refuses a feature importing another feature file that is not its module', () => {
    const out = lintText(
      "import { SessionsService } from '../sessions/sessions.service';\nexport const s = SessionsService;\n",
      'src/payroll/cross-feature-probe.ts',
    );
    expect(out).toMatch(/layout\/boundaries/);
    expect(out).toMatch(/sessions feature only through its \*\.module\.ts/);
  });

  it('accepts the same feature reached through its module', () => {
    const out = lintText(
      "import { SessionsModule } from '../sessions/sessions.module';\nexport const s = SessionsModule;\n",
      'src/payroll/cross-feature-probe.ts',
    );
    expect(out).toBe('');
  });

  it('refuses libs/ importing src/ and src/ importing test/', () => {
    expect(
      lintText(
        "import { AppModule } from '../../src/app.module';\nexport const a = AppModule;\n",
        'libs/queue/probe.ts',
      ),
    ).toMatch(/libs\/ must not import src\//);
    expect(
      lintText("import { waitFor } from '../../test/support';\nexport const w = waitFor;\n", 'src/payroll/probe.ts'),
    ).toMatch(/src\/ must not import test\//);
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('libs/ folders', () => {
  const libs = join(ROOT, 'libs');
  const graph = new Map<string, Set<string>>();
  for (const file of tsFiles(libs)) {
    const from = relative(libs, file).split(sep)[0];
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(libs, resolve(dirname(file), spec)).split(sep)[0];
      if (target !== from && !target.startsWith('..')) edges.add(target);
    }
  }

  it('import each other without a cycle', () => {
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of graph.get(node) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else visit(next, [...path, next]);
      }
    };
    for (const node of graph.keys()) visit(node, [node]);
    expect(cycles).toEqual([]);
  });

  it('finds the edges it checks (the graph is not empty)', () => {
    expect(graph.get('queue')?.has('core')).toBe(true);
    expect(graph.get('health')?.has('core')).toBe(true);
  });
});
