import type PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';

/**
 * Lets pg-boss write its job row inside our open transaction, so the job exists exactly when
 * the transaction commits.
 */
export function transactionExecutor(manager: EntityManager): PgBoss.Db {
  const runner = manager.queryRunner;
  if (!runner) throw new Error('transactionExecutor needs a transactional EntityManager');
  return {
    executeSql: async (text: string, values: unknown[]) => {
      const result = await runner.query(text, values, true);
      return { rows: result.records as unknown[] };
    },
  };
}
