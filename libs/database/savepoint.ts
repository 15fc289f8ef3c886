import type { EntityManager } from 'typeorm';

let next = 0;

/**
 * Runs `work` inside a savepoint of the manager's transaction: on success the savepoint is
 * released, on failure the transaction is rolled back to it (so the caller can go on, e.g. to
 * read the row a concurrent request inserted first) and the work's own error is rethrown.
 * Only what must be undoable alone belongs inside: anything after the release is ordinary
 * transaction work whose errors surface as they are.
 */
export async function inSavepoint<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) throw new Error('inSavepoint needs a manager inside a transaction');
  const name = `sp_${++next}`;
  await runner.query(`SAVEPOINT ${name}`);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    // If even this fails the transaction is lost anyway; the work's error is the one to report.
    await runner.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
    throw err;
  }
  await runner.query(`RELEASE SAVEPOINT ${name}`);
  return result;
}
