#!/usr/bin/env node
// Compiles to dist/ when any TypeScript source is newer than the last build, so `npm start`
// works on a fresh clone and stays fast when nothing changed.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
const sources = ['src', 'libs', 'migrations'];

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const inputs = Math.max(
  ...sources.map((d) => newest(join(root, d))),
  ...['ormconfig.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map(
    (f) => statSync(join(root, f)).mtimeMs,
  ),
);
if (existsSync(stamp) && statSync(stamp).mtimeMs >= inputs) process.exit(0);
process.stdout.write('Compiling TypeScript to dist/ ...\n');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
writeFileSync(stamp, new Date().toISOString());
