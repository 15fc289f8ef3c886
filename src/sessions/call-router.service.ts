import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../libs/config';
import { DatabaseService, returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { QueueService } from '../../libs/queue';

export const OFFER_TIMEOUT_QUEUE = 'sessions.call-offer-timeout';

export interface OfferTimeoutJob {
  org_id: string;
  call_id: string;
  offer_count: number;
}

interface Offer {
  callId: string;
  offerCount: number;
}

/**
 * Puts calls on agents. The claim of an agent is one statement: the longest-idle routable
 * session is locked FOR UPDATE SKIP LOCKED and its active_calls incremented, and the
 * CHECK (active_calls BETWEEN 0 AND capacity) is the last line of defence. Heartbeats write
 * agent_presence, another row, so they never make SKIP LOCKED skip a free agent. Nothing
 * external happens inside these transactions; offer timeouts are scheduled after commit.
 */
/** A routable session of org $1 (heartbeat within $2 seconds) with room for a call. */
const CANDIDATE = `s.org_id = $1 AND s.logout_at IS NULL AND s.status = 'available' AND s.pending_status IS NULL
  AND p.device_connected AND p.last_heartbeat > now() - make_interval(secs => $2)
  AND s.active_calls < s.capacity AND s.ready_at <= now()
  AND (s.offer_cooldown_until IS NULL OR s.offer_cooldown_until <= now())`;

/** Some call of org $1 is queued. */
const QUEUED = `SELECT 1 FROM calls q WHERE q.org_id = $1 AND q.status = 'queued'`;

/** Waits of 5, 10, … ms for concurrent claims to commit (about 1 s in all at most). */
const CONTENDED_CLAIM_RETRIES = 20;

@Injectable()
export class CallRouter {
  private readonly logger = new Logger('CallRouter');

  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly events: EventPublisher,
    private readonly queue: QueueService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Inside a tenant transaction: offers the org's queued calls, oldest first, to routable
   * agents until one or the other runs out. Offer timeouts are scheduled once it commits.
   */
  async offerQueuedIn(limit = 1000): Promise<number> {
    const m = this.tenant.manager;
    const orgId = this.tenant.orgId;
    const offers: Offer[] = [];
    for (let i = 0; i < limit; i++) {
      // The agent first (only while a call is queued), then the call: a transaction locks a
      // queued call only once it holds an agent for it, so concurrent offers never pass over an
      // older call that is merely locked by one that found no agent (FIFO holds under bursts).
      const agent = await this.claimAgent(m, orgId);
      if (!agent) break;
      // The oldest queued call, the agent's pointer to it and the offer: one statement.
      const [offer] = await returningRows<{ id: string; offer_count: number; external_id: string | null }>(
        m,
        `WITH call AS (
           SELECT id FROM calls WHERE org_id = $1 AND status = 'queued'
           ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
         pointer AS (
           UPDATE agent_sessions s SET current_call_id = coalesce(s.current_call_id, call.id)
           FROM call WHERE s.id = $2 RETURNING s.id)
         UPDATE calls c SET status = 'ringing', agent_id = $3, session_id = $2, assigned_at = now(),
           reserved_until = now() + make_interval(secs => $4), offer_count = c.offer_count + 1
         FROM call WHERE c.id = call.id
         RETURNING c.id, c.offer_count, c.external_id`,
        [orgId, agent.sessionId, agent.agentId, this.config.get('CALL_OFFER_TIMEOUT_SECONDS')],
      );
      if (!offer) {
        // Another transaction took the last queued call meanwhile: the agent is free again.
        await m.query(`UPDATE agent_sessions SET active_calls = active_calls - 1 WHERE id = $1`, [agent.sessionId]);
        break;
      }
      await this.events.publishWith(m, orgId, 'call.assigned', {
        call_id: offer.id,
        external_id: offer.external_id,
        agent_id: agent.agentId,
        session_id: agent.sessionId,
      });
      offers.push({ callId: offer.id, offerCount: offer.offer_count });
    }
    if (offers.length) this.tenant.onCommit(() => void this.scheduleTimeouts(orgId, offers));
    return offers.length;
  }

  /** Outside any transaction: one pass of offerQueuedIn for an org (after capacity frees up). */
  async offerQueued(orgId: string): Promise<number> {
    return this.tenant.run(orgId, () => this.offerQueuedIn());
  }

  /**
   * The atomic claim: the longest-idle routable session of the org, or null when none is free.
   * SKIP LOCKED passes over a session another transaction is claiming right now; when that is
   * the only reason nothing was found (a plain read still sees a routable session), the other
   * claim is about to commit and may leave capacity: the claim is tried again shortly, so a
   * burst of concurrent calls never queues one while an agent still has room.
   */
  private async claimAgent(m: EntityManager, orgId: string) {
    for (let attempt = 0; ; attempt++) {
      // One row always: the claimed session (if any), and whether any call is queued at all.
      const [row] = (await m.query(
        `WITH candidate AS (
           SELECT s.id FROM agent_sessions s JOIN agent_presence p ON p.session_id = s.id
           WHERE ${CANDIDATE} AND EXISTS (${QUEUED}) ORDER BY s.idle_since, s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED),
         claimed AS (
           UPDATE agent_sessions s SET active_calls = s.active_calls + 1
           FROM candidate c WHERE s.id = c.id RETURNING s.id AS session_id, s.agent_id)
         SELECT claimed.session_id, claimed.agent_id, EXISTS (${QUEUED}) AS queued
         FROM (SELECT 1) AS one LEFT JOIN claimed ON true`,
        [orgId, this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS')],
      )) as { session_id: string | null; agent_id: string | null; queued: boolean }[];
      if (row.session_id && row.agent_id) return { sessionId: row.session_id, agentId: row.agent_id };
      if (!row.queued) return null;
      if (attempt >= CONTENDED_CLAIM_RETRIES) return null;
      const [busy] = (await m.query(
        `SELECT EXISTS (SELECT 1 FROM agent_sessions s JOIN agent_presence p ON p.session_id = s.id
                        WHERE ${CANDIDATE}) AND EXISTS (${QUEUED}) AS contended`,
        [orgId, this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS')],
      )) as { contended: boolean }[];
      if (!busy.contended) return null;
      await new Promise((r) => setTimeout(r, 5 + attempt * 5));
    }
  }

  /**
   * Inside a tenant transaction: takes a ringing call back from its agent (missed offer or
   * agent gone): the agent's count drops, the agent cools down, the call re-queues at its
   * original place. Returns false when the call is no longer that offer.
   */
  async releaseOfferIn(callId: string, expectedOfferCount?: number, reason = 'offer timed out'): Promise<boolean> {
    const m = this.tenant.manager;
    const [call] = (await m.query(
      `SELECT id, session_id, offer_count, reserved_until <= now() AS expired FROM calls
       WHERE id = $1 AND status = 'ringing' FOR UPDATE`,
      [callId],
    )) as { id: string; session_id: string; offer_count: number; expired: boolean }[];
    if (!call || (expectedOfferCount !== undefined && call.offer_count !== expectedOfferCount)) return false;
    if (expectedOfferCount !== undefined && !call.expired) return false;
    await m.query(
      `UPDATE agent_sessions SET active_calls = active_calls - 1,
         offer_cooldown_until = now() + make_interval(secs => $2),
         current_call_id = CASE WHEN current_call_id = $3 THEN
           (SELECT c.id FROM calls c WHERE c.session_id = $1 AND c.id <> $3 AND c.status IN ('ringing', 'in_progress') LIMIT 1)
           ELSE current_call_id END
       WHERE id = $1`,
      [call.session_id, this.config.get('CALL_MISSED_OFFER_COOLDOWN_SECONDS'), call.id],
    );
    await m.query(
      `UPDATE calls SET status = 'queued', agent_id = NULL, session_id = NULL, reserved_until = NULL,
         last_missed_session_id = $2, end_reason = NULL WHERE id = $1`,
      [call.id, call.session_id],
    );
    this.logger.debug(`call ${call.id} re-queued: ${reason}`);
    return true;
  }

  /** Across orgs (system connection): every ringing offer past its time is released and re-offered. */
  async releaseExpiredOffers(): Promise<number> {
    await this.db.whenConnected();
    const expired = (await this.db.system.query(
      `SELECT org_id, id FROM calls WHERE status = 'ringing' AND reserved_until < now() ORDER BY org_id`,
    )) as { org_id: string; id: string }[];
    let released = 0;
    for (const orgId of new Set(expired.map((e) => e.org_id))) {
      await this.tenant.run(orgId, async () => {
        for (const e of expired.filter((x) => x.org_id === orgId)) {
          if (await this.releaseOfferIn(e.id, undefined, 'reservation expired')) released++;
        }
        await this.offerQueuedIn();
      });
    }
    return released;
  }

  private async scheduleTimeouts(orgId: string, offers: Offer[]): Promise<void> {
    const seconds = this.config.get('CALL_OFFER_TIMEOUT_SECONDS');
    for (const o of offers) {
      const job: OfferTimeoutJob = { org_id: orgId, call_id: o.callId, offer_count: o.offerCount };
      // If this send is lost, the sweeper releases the expired reservation instead.
      await this.queue
        .send(OFFER_TIMEOUT_QUEUE, job, { startAfter: seconds, retryLimit: 3 })
        .catch((err: Error) => this.logger.warn(`offer timeout for ${o.callId} not scheduled: ${err.message}`));
    }
  }
}
