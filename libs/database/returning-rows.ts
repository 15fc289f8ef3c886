import { DataSource, EntityManager } from 'typeorm';

/**
 * The rows of a statement, whatever its command. TypeORM's `query()` answers a SELECT with
 * its rows but an UPDATE or DELETE (… RETURNING) with `[rows, affected]`, so reading one
 * the way of the other silently gets the wrong thing; this reads the driver's structured
 * result instead. Runs on the manager's transaction, or on a pooled connection of a DataSource.
 */
export async function returningRows<T>(
  source: EntityManager | DataSource,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  if (source instanceof EntityManager && source.queryRunner) {
    return (await source.queryRunner.query(text, values, true)).records as T[];
  }
  const dataSource = source instanceof EntityManager ? source.connection : source;
  const runner = dataSource.createQueryRunner();
  try {
    return (await runner.query(text, values, true)).records as T[];
  } finally {
    await runner.release();
  }
}
