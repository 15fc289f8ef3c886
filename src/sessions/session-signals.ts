import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { DatabaseService, TenantContext } from '../../libs/database';
import { presenceSql, routableSql } from './presence';
import { SessionSweeper } from './session-sweeper.service';
import type { SweepCounts } from './stuck-states';

/** A value of a signal for one org. */
export interface OrgValue {
  orgId: string;
  value: number;
}

/**
 * The call center's health signal across orgs (system connection; counts only), and the
 * sweep an incident may run at once instead of waiting for its next tick.
 */
@Injectable()
export class SessionSignals {
  constructor(
    private readonly db: DatabaseService,
    private readonly sweeper: SessionSweeper,
    private readonly config: AppConfig,
    private readonly tenant: TenantContext,
  ) {}

  /**
   * The call center of the current org as the router sees it (tenant transaction): queued calls
   * and the oldest wait, sessions logged in by status, routable ones, free capacity, stale or
   * disconnected devices, and sessions in wrap-up or missed-offer cooldown.
   */
  async callCenterState(): Promise<Record<string, number | null>> {
    const window = this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS');
    const [row] = (await this.tenant.manager.query(
      `SELECT
         (SELECT count(*)::int FROM calls WHERE status = 'queued') AS queued_calls,
         (SELECT extract(epoch FROM now() - min(queued_at))::float8 FROM calls WHERE status = 'queued') AS oldest_queued_seconds,
         (SELECT count(*)::int FROM calls WHERE status = 'ringing') AS ringing_calls,
         count(*) FILTER (WHERE s.logout_at IS NULL)::int AS logged_in,
         count(*) FILTER (WHERE s.logout_at IS NULL AND s.status = 'available')::int AS available,
         count(*) FILTER (WHERE s.logout_at IS NULL AND s.status <> 'available')::int AS not_available,
         count(*) FILTER (WHERE ${routableSql('$1')})::int AS routable,
         coalesce(sum(s.capacity - s.active_calls) FILTER (WHERE ${routableSql('$1')}), 0)::int AS free_capacity,
         count(*) FILTER (WHERE s.logout_at IS NULL AND ${presenceSql('$1')} = 'stale')::int AS stale_heartbeat,
         count(*) FILTER (WHERE s.logout_at IS NULL AND ${presenceSql('$1')} = 'disconnected')::int AS device_disconnected,
         count(*) FILTER (WHERE s.logout_at IS NULL AND s.ready_at > now())::int AS in_wrap_up,
         count(*) FILTER (WHERE s.logout_at IS NULL AND s.offer_cooldown_until > now())::int AS in_offer_cooldown,
         count(*) FILTER (WHERE s.logout_at IS NULL AND s.active_calls >= s.capacity)::int AS at_capacity
       FROM agent_sessions s LEFT JOIN agent_presence p ON p.session_id = s.id`,
      [window],
    )) as Record<string, number | null>[];
    return { ...row, routable_heartbeat_seconds: window };
  }

  /** Queued calls of each org in which no agent is routable (the router's own rule). */
  async callsWaitingWithoutAgents(): Promise<OrgValue[]> {
    const rows = (await this.db.system.query(
      `SELECT c.org_id, count(*)::float8 AS value FROM calls c
       WHERE c.status = 'queued' AND NOT EXISTS (
         SELECT 1 FROM agent_sessions s LEFT JOIN agent_presence p ON p.session_id = s.id
         WHERE s.org_id = c.org_id AND ${routableSql('$1')})
       GROUP BY c.org_id`,
      [this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS')],
    )) as { org_id: string; value: number }[];
    return rows.map((r) => ({ orgId: r.org_id, value: Number(r.value) }));
  }

  /** One sweep now, of one org or of all. */
  sweepNow(orgId?: string): Promise<SweepCounts> {
    return this.sweeper.sweep(orgId ? { orgId } : {});
  }
}
