import { join } from 'node:path';
import { AppConfig } from '../../libs/config';
import { runMigrations, startEmbeddedDatabase } from '../../libs/database';
import { installQueueSchema } from '../../libs/queue';
import { bootLogger } from './boot-logger';

export interface PreparedDatabase {
  /** The config with the database URLs filled in. */
  config: AppConfig;
  /** Stops the embedded database if this process started it. */
  stop: () => Promise<void>;
  embedded: boolean;
  /** True when this run created a fresh embedded cluster. */
  created: boolean;
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** Applies TypeORM migrations and the queue schema (what `task migrate` does). */
export async function migrateAll(config: AppConfig): Promise<string[]> {
  const runtime = config.get('DATABASE_URL');
  const admin = config.get('DATABASE_ADMIN_URL') ?? runtime;
  const system = config.get('DATABASE_SYSTEM_URL') ?? runtime;
  if (!admin || !system) throw new Error('DATABASE_URL (or DATABASE_ADMIN_URL) must be set to migrate');
  const applied = await runMigrations(admin);
  await installQueueSchema(system);
  return applied;
}

/**
 * With DATABASE_URL unset, starts the embedded PostgreSQL (data in DATA_DIR/postgres) and, when
 * `migrate` is set, applies pending migrations, as `npm start` does. With DATABASE_URL set,
 * nothing is started and nothing is migrated here (production runs `task migrate`).
 */
export async function prepareDatabase(config: AppConfig, options: { migrate: boolean }): Promise<PreparedDatabase> {
  if (!config.embeddedDatabase) {
    return { config, stop: async () => undefined, embedded: false, created: false };
  }
  const dataDir = config.get('DATA_DIR');
  const pgLog = bootLogger.child({ component: 'embedded-postgres' });
  const db = await startEmbeddedDatabase(dataDir, config.get('EMBEDDED_PG_PORT'), (line) => pgLog.debug(line));
  bootLogger.info(
    {
      // Where it is, never with what password (the roles' passwords stay in their 0600 file).
      url: withoutPassword(db.urls.admin),
      data_dir: join(dataDir, 'postgres'),
      reused_running_server: db.server.reused,
      created: db.created,
    },
    `embedded PostgreSQL on 127.0.0.1:${db.server.port}`,
  );
  const prepared = config.with({
    DATABASE_URL: db.urls.runtime,
    DATABASE_ADMIN_URL: db.urls.admin,
    DATABASE_SYSTEM_URL: db.urls.system,
  });
  // Our pools are closed by then, but their sockets may still be closing: a smart shutdown lets
  // them end cleanly (no "terminating connection" errors), then a fast one after 2 s at most.
  const stop = () => db.server.stop(15_000, 2_000);
  if (options.migrate) {
    try {
      const applied = await migrateAll(prepared);
      if (applied.length) bootLogger.info({ applied }, `applied ${applied.length} migration(s)`);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  return { config: prepared, stop, embedded: true, created: db.created };
}
