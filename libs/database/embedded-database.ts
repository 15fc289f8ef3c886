import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EmbeddedPostgres } from './embedded-postgres';
import { buildUrls, DatabaseUrls, provisionRolesAndDatabase, RolePasswords } from './database-roles';

export const EMBEDDED_DATABASE_NAME = 'calmops';

interface EmbeddedSecrets extends RolePasswords {
  superuser: string;
}

export interface EmbeddedDatabase {
  urls: DatabaseUrls;
  server: EmbeddedPostgres;
  /** True when this start created the cluster (a fresh `.data`). */
  created: boolean;
}

function generatePassword(): string {
  return randomBytes(24).toString('hex');
}

/** Passwords are generated on first start and kept beside the data, never in git. */
function loadOrCreateSecrets(file: string, clusterExists: boolean): EmbeddedSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as EmbeddedSecrets;
  if (clusterExists) {
    throw new Error(
      `${file} is missing but the embedded cluster exists; restore the file or delete the data directory to start fresh`,
    );
  }
  const secrets: EmbeddedSecrets = {
    superuser: generatePassword(),
    owner: generatePassword(),
    runtime: generatePassword(),
    system: generatePassword(),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/**
 * Starts the embedded PostgreSQL with its data in `<dataDir>/postgres`, creating the cluster,
 * roles and database on the first start and reusing them afterwards.
 */
export async function startEmbeddedDatabase(
  dataDir: string,
  port: number,
  onLog?: (line: string) => void,
): Promise<EmbeddedDatabase> {
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const server = new EmbeddedPostgres({ dataDir: join(root, 'postgres'), port, onLog });
  const created = !server.initialised;
  const secrets = loadOrCreateSecrets(join(root, 'embedded-postgres-secrets.json'), !created);
  if (created) server.initialise(secrets.superuser);
  await server.start();
  const superuserUrl = `postgres://postgres:${secrets.superuser}@127.0.0.1:${server.port}/postgres`;
  try {
    await provisionRolesAndDatabase(superuserUrl, EMBEDDED_DATABASE_NAME, secrets);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { urls: buildUrls('127.0.0.1', server.port, EMBEDDED_DATABASE_NAME, secrets), server, created };
}
