import { join, resolve } from 'node:path';

/**
 * Where development secrets are generated outside production (src/bootstrap/dev-secrets.ts writes
 * it; the readiness report recognises its values as not fit for production).
 */
export function devSecretsFile(dataDir: string): string {
  return join(resolve(dataDir), 'dev-secrets.json');
}
