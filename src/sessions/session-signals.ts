import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { routableSql } from './presence';
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
  ) {}

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
