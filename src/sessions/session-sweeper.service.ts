import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../libs/config';
import { DatabaseService, returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { ClusterCron } from '../../libs/queue';
import { CallRouter } from './call-router.service';
import type { AgentStatus } from './entities/agent-session.entity';
import { changeStatus } from './status-history';
import {
  emptyCounts,
  LAST_HEARTBEAT,
  LIVE_CALL_COUNT,
  orgsWithStuckStatesSql,
  PREFERRED_LIVE_CALL,
  SESSION_FROM,
  STUCK_KINDS,
  stuckParams,
  stuckWhere,
} from './stuck-states';
import type { StuckKind, StuckThresholds, SweepCounts } from './stuck-states';

export type { SweepCounts } from './stuck-states';

interface StuckSession {
  id: string;
  org_id: string;
  agent_id: string;
  status: AgentStatus;
  pending_status: 'away' | 'offline' | null;
  /** As text, so logout_at = last heartbeat keeps PostgreSQL's microseconds. */
  last_heartbeat: string;
}

interface ExpiredOffer {
  id: string;
  offer_count: number;
  session_id: string | null;
  agent_id: string | null;
  status: AgentStatus | null;
}

/** Some org's fixes failed (they roll back alone); the rest were applied and are counted. */
export class SweepFailedError extends Error {
  constructor(
    readonly counts: SweepCounts,
    readonly failures: string[],
  ) {
    super(`session sweep: ${failures.length} fix(es) failed: ${failures.join('; ')}`);
  }
}

/**
 * Repairs what crashed clients, lost jobs and dropped heartbeats leave behind. Finding crosses
 * tenants (system connection); fixing happens per org and per kind of stuck state in a tenant
 * transaction, so row-level security applies to every write and one failure rolls back alone.
 * Each fix re-selects its rows with the shared condition (FOR UPDATE SKIP LOCKED): a row that
 * changed or is busy meanwhile is left for the next tick. Nothing is deleted; every fix
 * appends an agent_status_history row with actor 'system'.
 */
@Injectable()
export class SessionSweeper {
  private readonly logger = new Logger('SessionSweeper');

  constructor(
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
    private readonly events: EventPublisher,
    private readonly router: CallRouter,
    private readonly config: AppConfig,
  ) {}

  @ClusterCron('sessions.sweep', (c) => ({ everyMs: c.get('SESSION_CLEANUP_INTERVAL_SECONDS') * 1000 }))
  async sweepOnSchedule(): Promise<SweepCounts> {
    return this.sweep();
  }

  thresholds(): StuckThresholds {
    return {
      offlineAfterSeconds: this.config.get('SESSION_OFFLINE_AFTER_SECONDS'),
      abandonAfterSeconds: this.config.get('SESSION_ABANDON_AFTER_SECONDS'),
      routableHeartbeatSeconds: this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS'),
    };
  }

  /** One pass over every org (or only `orgId`); idempotent, so a retried tick is harmless. */
  async sweep(options: { orgId?: string } = {}): Promise<SweepCounts> {
    await this.db.whenConnected();
    const found = (await this.db.system.query(
      orgsWithStuckStatesSql(),
      stuckParams(this.thresholds(), options.orgId),
    )) as { org_id: string }[];
    const counts = emptyCounts();
    const failures: string[] = [];
    for (const { org_id: orgId } of found) {
      // Every kind runs for an org with any stuck state: an earlier fix (a released offer)
      // can reveal a later one (an agent now silent without a call) in the same pass.
      for (const kind of STUCK_KINDS) {
        try {
          counts[kind] += await this.tenant.run(orgId, () => this.fix(kind));
        } catch (err) {
          failures.push(`${orgId} ${kind}: ${(err as Error).message}`);
          this.logger.warn({ org_id: orgId, kind, err }, `session sweep fix failed: ${(err as Error).message}`);
        }
      }
    }
    if (failures.length) throw new SweepFailedError(counts, failures);
    if (Object.values(counts).some((n) => n > 0)) this.logger.log({ counts }, 'session sweep fixed stuck states');
    return counts;
  }

  /** Inside the org's tenant transaction: fixes every row of one kind; returns how many. */
  private async fix(kind: StuckKind): Promise<number> {
    const m = this.tenant.manager;
    const params = stuckParams(this.thresholds(), this.tenant.orgId);
    if (kind === 'offers_released') return this.releaseExpiredOffers(m, params);
    if (kind === 'queued_calls_offered') return this.offerStrandedCalls(m, params);
    const rows = (await m.query(
      `SELECT s.id, s.org_id, s.agent_id, s.status, s.pending_status, ${LAST_HEARTBEAT}::text AS last_heartbeat
       FROM ${SESSION_FROM} WHERE ${stuckWhere(kind)} ORDER BY s.id FOR UPDATE OF s SKIP LOCKED`,
      params,
    )) as StuckSession[];
    for (const row of rows) await this.fixSession(m, kind, row);
    return rows.length;
  }

  private async fixSession(
    m: EntityManager,
    kind: Exclude<StuckKind, 'offers_released' | 'queued_calls_offered'>,
    s: StuckSession,
  ) {
    switch (kind) {
      case 'call_pointers_cleared': {
        const [row] = await returningRows<{ current_call_id: string | null }>(
          m,
          `UPDATE agent_sessions s SET current_call_id = ${PREFERRED_LIVE_CALL} WHERE s.id = $1 RETURNING s.current_call_id`,
          [s.id],
        );
        return this.history(m, s, row.current_call_id ? 'call_pointer_repointed' : 'call_pointer_cleared');
      }
      case 'active_calls_recomputed':
        // Freed of phantom calls: idle from now, as when a call really ends.
        await m.query(
          `UPDATE agent_sessions s SET active_calls = least(${LIVE_CALL_COUNT}, s.capacity),
             idle_since = CASE WHEN s.active_calls > 0 AND ${LIVE_CALL_COUNT} = 0 THEN now() ELSE s.idle_since END
           WHERE s.id = $1`,
          [s.id],
        );
        return this.history(m, s, 'active_calls_recomputed');
      case 'pending_applied':
        return this.transition(m, s, s.pending_status!, 'pending_status_applied', { pending_status: null });
      case 'sessions_closed':
        await this.transition(m, s, 'offline', 'abandoned', {
          logout_at: s.last_heartbeat,
          end_reason: 'abandoned',
          pending_status: null,
        });
        return this.disconnect(m, s.id);
      case 'taken_offline':
        await this.transition(m, s, 'offline', 'heartbeat_timeout', { pending_status: null });
        return this.disconnect(m, s.id);
      case 'stale_on_call_flagged':
        await m.query(`UPDATE agent_sessions SET stale_flagged_at = now() WHERE id = $1`, [s.id]);
        return this.history(m, s, 'stale_on_live_call');
    }
  }

  /**
   * The per-org form of CallRouter.releaseExpiredOffers (which spans all orgs): each expired
   * offer is released by the router (count down, cooldown, call re-queued at its place) and
   * the queue is offered again. Offer counts are passed so a call that was re-offered since
   * it was found is left alone.
   */
  private async releaseExpiredOffers(m: EntityManager, params: unknown[]): Promise<number> {
    const offers = (await m.query(
      `SELECT c.id, c.offer_count, s.id AS session_id, s.agent_id, s.status
       FROM calls c LEFT JOIN agent_sessions s ON s.id = c.session_id
       WHERE ${stuckWhere('offers_released')} ORDER BY c.id FOR UPDATE OF c SKIP LOCKED`,
      params,
    )) as ExpiredOffer[];
    let released = 0;
    for (const offer of offers) {
      if (!(await this.router.releaseOfferIn(offer.id, offer.offer_count, 'reservation expired'))) continue;
      released++;
      if (offer.session_id && offer.agent_id && offer.status) {
        const ref = { id: offer.session_id, org_id: this.tenant.orgId, agent_id: offer.agent_id, status: offer.status };
        await this.history(m, ref, 'offer_expired');
      }
    }
    if (released) await this.router.offerQueuedIn();
    return released;
  }

  /**
   * Calls queued while a routable agent waits: the router offers the org's queue (oldest
   * first, its usual claim), which takes these calls and any queued before them.
   */
  private async offerStrandedCalls(m: EntityManager, params: unknown[]): Promise<number> {
    const [stranded] = (await m.query(
      `SELECT count(*)::int AS n FROM calls c WHERE ${stuckWhere('queued_calls_offered')}`,
      params,
    )) as { n: number }[];
    if (!stranded?.n) return 0;
    const offered = await this.router.offerQueuedIn();
    this.logger.log({ org_id: this.tenant.orgId, stranded: stranded.n, offered }, 'stranded queued calls offered');
    return offered;
  }

  /** A status change goes through changeStatus (row, history, event); same status: row and history only. */
  private async transition(
    m: EntityManager,
    s: Pick<StuckSession, 'id' | 'org_id' | 'agent_id' | 'status'>,
    to: AgentStatus,
    reason: string,
    set: Record<string, unknown>,
  ): Promise<void> {
    if (s.status !== to) {
      const ref = { id: s.id, orgId: s.org_id, agentId: s.agent_id, status: s.status };
      return changeStatus(m, this.events, ref, to, 'system', reason, set);
    }
    const columns = Object.keys(set);
    await m.query(`UPDATE agent_sessions SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [
      s.id,
      ...columns.map((c) => set[c]),
    ]);
    await this.history(m, s, reason);
  }

  /** A fix that keeps the status: history records it with from = to = the current status. */
  private async history(
    m: EntityManager,
    s: Pick<StuckSession, 'id' | 'org_id' | 'agent_id' | 'status'>,
    reason: string,
  ): Promise<void> {
    await m.query(
      `INSERT INTO agent_status_history (org_id, session_id, agent_id, from_status, to_status, actor, reason)
       VALUES ($1, $2, $3, $4, $4, 'system', $5)`,
      [s.org_id, s.id, s.agent_id, s.status, reason],
    );
  }

  private async disconnect(m: EntityManager, sessionId: string): Promise<void> {
    await m.query(`UPDATE agent_presence SET device_connected = false WHERE session_id = $1`, [sessionId]);
  }
}
