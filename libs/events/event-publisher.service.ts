import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { TenantContext } from '../database';

/**
 * Publishes a domain event by writing it to the outbox in the caller's transaction: it is
 * relayed if and only if that transaction commits.
 */
@Injectable()
export class EventPublisher {
  constructor(private readonly tenant: TenantContext) {}

  /** Inside a tenant request or job (TenantContext.run). Returns the event id. */
  async publish(type: string, data: Record<string, unknown>): Promise<string> {
    return this.publishWith(this.tenant.manager, this.tenant.orgId, type, data);
  }

  /** With an explicit transaction, e.g. a system-connection dispatcher acting for one org. */
  async publishWith(
    manager: EntityManager,
    orgId: string,
    type: string,
    data: Record<string, unknown>,
  ): Promise<string> {
    const rows = (await manager.query(
      'INSERT INTO domain_events (org_id, type, data) VALUES ($1, $2, $3) RETURNING id',
      [orgId, type, JSON.stringify(data)],
    )) as { id: string }[];
    return rows[0].id;
  }

  /** The same event type to many orgs, each with its own data, in one statement. Returns how many. */
  async publishMany(
    manager: EntityManager,
    type: string,
    events: readonly { orgId: string; data: Record<string, unknown> }[],
  ): Promise<number> {
    if (!events.length) return 0;
    await manager.query(
      `INSERT INTO domain_events (org_id, type, data)
       SELECT x.org_id, $1, x.data FROM jsonb_to_recordset($2::jsonb) AS x(org_id uuid, data jsonb)`,
      [type, JSON.stringify(events.map((e) => ({ org_id: e.orgId, data: e.data })))],
    );
    return events.length;
  }
}
