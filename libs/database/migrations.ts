import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

/** Serialises concurrent migrators (several replicas or Jobs started at once). */
const MIGRATION_LOCK_KEY = 4_104_211_001;

/** Applies every pending migration as the owner role; returns the names applied. */
export async function runMigrations(adminUrl: string): Promise<string[]> {
  const lock = new Client({ connectionString: adminUrl, application_name: 'calmops:migrate-lock' });
  await lock.connect();
  const ds = new DataSource(buildDataSourceOptions({ url: adminUrl, applicationName: 'calmops:migrate', poolSize: 2 }));
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ds.initialize();
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await lock.end();
  }
}

/** Names of migrations known to this build that the database has not applied yet. */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const known = ds.migrations.map((m) => m.name ?? m.constructor.name);
  const { exists } = (await ds.query(`select to_regclass('public.migrations') is not null as exists`))[0] as {
    exists: boolean;
  };
  if (!exists) return known;
  const rows = (await ds.query('select name from migrations')) as { name: string }[];
  const done = new Set(rows.map((r) => r.name));
  return known.filter((name) => !done.has(name));
}
