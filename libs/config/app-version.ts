import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The version in package.json, found from both `dist/` and the sources. */
export function appVersion(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      cached = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
      return cached;
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}
