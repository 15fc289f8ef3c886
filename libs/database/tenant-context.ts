import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { EntityManager, EntityTarget, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import { DatabaseService } from './database.service';

interface TenantScope {
  orgId: string;
  manager: EntityManager;
  afterCommit: (() => void)[];
}

const storage = new AsyncLocalStorage<TenantScope>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What `QueryRunner.startTransaction()` records, for a transaction opened by our own statement. */
function markTransactionOpen(runner: QueryRunner): void {
  const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
  state.isTransactionActive = true;
  state.transactionDepth = 1;
}

export class NoTenantContextError extends Error {
  constructor() {
    super('No tenant context: tenant data may only be touched inside TenantContext.run()');
  }
}

/**
 * The one way tenant data is read or written: a transaction on the runtime role that first
 * sets `app.current_org`, so row-level security confines every statement to one org.
 * Code inside `run()` reaches the transaction through `manager` / `repo()`.
 */
@Injectable()
export class TenantContext {
  constructor(private readonly db: DatabaseService) {}

  async run<T>(orgId: string, work: () => Promise<T>): Promise<T> {
    if (!UUID.test(orgId)) throw new Error('TenantContext.run: the org id is not a UUID');
    const afterCommit: (() => void)[] = [];
    const runner = this.db.app.createQueryRunner();
    let result: T;
    try {
      // One round trip opens the transaction and sets the org (a simple-protocol query, so the
      // id is a literal: checked above to be a UUID). TypeORM is then told a transaction is open,
      // so nested transactions inside `work` become savepoints and commit/rollback work as usual.
      const client = (await runner.connect()) as { query(sql: string): Promise<unknown> };
      await client.query(`START TRANSACTION; SELECT set_config('app.current_org', '${orgId}', true)`);
      markTransactionOpen(runner);
      try {
        result = await storage.run({ orgId, manager: runner.manager, afterCommit }, work);
        await runner.commitTransaction();
      } catch (err) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
    for (const fn of afterCommit) fn();
    return result;
  }

  /** Runs `fn` once the current transaction has committed (never if it rolls back). */
  onCommit(fn: () => void): void {
    const scope = storage.getStore();
    if (!scope) throw new NoTenantContextError();
    scope.afterCommit.push(fn);
  }

  get active(): boolean {
    return storage.getStore() !== undefined;
  }

  get orgId(): string {
    const scope = storage.getStore();
    if (!scope) throw new NoTenantContextError();
    return scope.orgId;
  }

  get manager(): EntityManager {
    const scope = storage.getStore();
    if (!scope) throw new NoTenantContextError();
    return scope.manager;
  }

  repo<E extends ObjectLiteral>(entity: EntityTarget<E>): Repository<E> {
    return this.manager.getRepository(entity);
  }
}
