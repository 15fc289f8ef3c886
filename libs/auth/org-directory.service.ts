import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database';

interface Entry {
  plan: string | null;
  until: number;
}

const TTL_MS = 30_000;

/**
 * Existence and plan of an org, for authentication and rate limits. Read through the system
 * connection (we do not know the caller's org is real yet) and cached briefly.
 */
@Injectable()
export class OrgDirectory {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly db: DatabaseService) {}

  /** The org's plan, or null when there is no such org. */
  async planOf(orgId: string): Promise<string | null> {
    const hit = this.cache.get(orgId);
    if (hit && hit.until > Date.now()) return hit.plan;
    const rows = (await this.db.system.query('SELECT plan FROM orgs WHERE id = $1', [orgId])) as { plan: string }[];
    const plan = rows[0]?.plan ?? null;
    this.cache.set(orgId, { plan, until: Date.now() + TTL_MS });
    return plan;
  }

  forget(orgId: string): void {
    this.cache.delete(orgId);
  }
}
