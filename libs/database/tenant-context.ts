import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { DatabaseService } from './database.service';

interface TenantScope {
  orgId: string;
  manager: EntityManager;
  afterCommit: (() => void)[];
}

const storage = new AsyncLocalStorage<TenantScope>();

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
    const afterCommit: (() => void)[] = [];
    const result = await this.db.app.transaction(async (manager) => {
      await manager.query(`select set_config('app.current_org', $1, true)`, [orgId]);
      return storage.run({ orgId, manager, afterCommit }, work);
    });
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
