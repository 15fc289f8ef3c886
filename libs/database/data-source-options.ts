import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/**
 * Entities and migrations are found by file name so that the same options work from the
 * compiled `dist/` tree and from TypeScript sources under jest.
 */
const ROOT = join(__dirname, '..', '..');
export const ENTITY_GLOBS = [join(ROOT, '{src,libs}', '**', '*.entity.{ts,js}')];
export const MIGRATION_GLOBS = [join(ROOT, 'migrations', '*.{ts,js}')];

export interface DataSourceParams {
  url: string;
  /** Shown in pg_stat_activity so every connection says what it is for. */
  applicationName: string;
  poolSize?: number;
  connectTimeoutMs?: number;
}

export function buildDataSourceOptions(p: DataSourceParams): DataSourceOptions {
  return {
    type: 'postgres',
    url: p.url,
    entities: ENTITY_GLOBS,
    migrations: MIGRATION_GLOBS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    applicationName: p.applicationName,
    poolSize: p.poolSize ?? 10,
    connectTimeoutMS: p.connectTimeoutMs ?? 5000,
    extra: {
      // A dropped connection must not crash the process; the pool replaces it.
      keepAlive: true,
    },
  };
}
