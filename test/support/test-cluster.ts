import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { buildUrls, DatabaseUrls, DB_ROLES, RolePasswords } from '../../libs/database';

/** What global setup leaves for the test files: one PostgreSQL cluster and a migrated template. */
export interface TestClusterState {
  superuserUrl: string;
  host: string;
  port: number;
  passwords: RolePasswords;
  template: string;
  /** Set when global setup started an embedded server (and teardown must stop it). */
  embeddedDir?: string;
  embeddedPid?: number;
}

export const TEST_ROOT = join(__dirname, '..', '..', '.test-data');
/**
 * One state file per jest run (global setup exports its path to the workers), so two test runs
 * on one machine never share or stop each other's database.
 */
export function testStateFile(): string {
  return process.env.CALMOPS_TEST_STATE_FILE ?? join(TEST_ROOT, 'cluster.json');
}
export const TEMPLATE_DB = 'calmops_template';

export function readClusterState(): TestClusterState {
  return JSON.parse(readFileSync(testStateFile(), 'utf8')) as TestClusterState;
}

export interface TestDatabase extends DatabaseUrls {
  name: string;
  superuser: string;
  drop: () => Promise<void>;
}

/** A fresh database cloned from the migrated template (one per test file, or per test). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const state = readClusterState();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: state.superuserUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${state.template} OWNER ${DB_ROLES.owner}`);
    await admin.query(`GRANT CREATE ON DATABASE ${name} TO ${DB_ROLES.systemLogin}`);
  } finally {
    await admin.end();
  }
  const urls = buildUrls(state.host, state.port, name, state.passwords);
  const superuser = state.superuserUrl.replace(/\/[^/]+$/, `/${name}`);
  return {
    ...urls,
    name,
    superuser,
    drop: async () => {
      const c = new Client({ connectionString: state.superuserUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs SQL as a given URL's role and closes the connection. */
export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
