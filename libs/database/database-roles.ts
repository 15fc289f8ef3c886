import { Client } from 'pg';

/**
 * Database roles. Migrations grant table privileges to the two NOLOGIN group roles; login
 * roles join a group. BYPASSRLS is a role attribute (not inherited through membership), so the
 * system login role carries it itself. See README "Database roles".
 */
export const DB_ROLES = {
  owner: 'calmops_owner',
  runtimeGroup: 'calmops_runtime',
  systemGroup: 'calmops_system',
  runtimeLogin: 'calmops_app',
  systemLogin: 'calmops_sys',
} as const;

export interface RolePasswords {
  owner: string;
  runtime: string;
  system: string;
}

export interface DatabaseUrls {
  runtime: string;
  admin: string;
  system: string;
}

export function buildUrls(host: string, port: number, database: string, pw: RolePasswords): DatabaseUrls {
  const url = (user: string, password: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
  return {
    runtime: url(DB_ROLES.runtimeLogin, pw.runtime),
    admin: url(DB_ROLES.owner, pw.owner),
    system: url(DB_ROLES.systemLogin, pw.system),
  };
}

/** The advisory lock (superuser connection) held while roles and the database are provisioned. */
const PROVISION_LOCK = 7_391_004_211;

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function ensureRole(client: Client, name: string, attributes: string): Promise<void> {
  const { rowCount } = await client.query('select 1 from pg_roles where rolname = $1', [name]);
  const verb = rowCount ? 'ALTER' : 'CREATE';
  await client.query(`${verb} ROLE ${name} ${attributes}`);
}

/**
 * Creates (or re-asserts) the roles and the database on a cluster we control as superuser:
 * the embedded development database and the test cluster.
 */
export async function provisionRolesAndDatabase(
  superuserUrl: string,
  database: string,
  pw: RolePasswords,
): Promise<void> {
  const client = new Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    // Processes starting together on one cluster (api + workers on the embedded database) take
    // turns: concurrent ALTER ROLE of the same role fails with "tuple concurrently updated".
    await client.query('SELECT pg_advisory_lock($1)', [PROVISION_LOCK]);
    await ensureRole(client, DB_ROLES.owner, `LOGIN NOSUPERUSER CREATEROLE PASSWORD ${literal(pw.owner)}`);
    await ensureRole(client, DB_ROLES.runtimeGroup, 'NOLOGIN NOSUPERUSER NOBYPASSRLS');
    await ensureRole(client, DB_ROLES.systemGroup, 'NOLOGIN NOSUPERUSER');
    await ensureRole(
      client,
      DB_ROLES.runtimeLogin,
      `LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ${literal(pw.runtime)}`,
    );
    await ensureRole(
      client,
      DB_ROLES.systemLogin,
      `LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ${literal(pw.system)}`,
    );
    await client.query(`GRANT ${DB_ROLES.runtimeGroup} TO ${DB_ROLES.runtimeLogin}`);
    await client.query(`GRANT ${DB_ROLES.systemGroup} TO ${DB_ROLES.systemLogin}`);
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${database} OWNER ${DB_ROLES.owner} ENCODING 'UTF8'`);
    // The queue library (pg-boss) creates and owns its own schema as the system login role.
    await client.query(`GRANT CREATE ON DATABASE ${database} TO ${DB_ROLES.systemLogin}`);
  } finally {
    await client.end();
  }
}
