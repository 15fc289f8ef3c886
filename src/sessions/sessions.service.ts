import type { Principal } from '../../libs/auth';
import { Injectable, NotFoundException } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { decodeCursor, encodeCursor, ProblemException, timestampText } from '../../libs/http';
import { CallRouter } from './call-router.service';
import { ChangeStatusDto, LoginDto, SessionDto, SessionListQueryDto, SessionPageDto } from './dto/session.dto';
import { AgentSession } from './entities/agent-session.entity';
import type { AgentStatus } from './entities/agent-session.entity';
import type { Presence } from './presence';
import { presenceSql, routableSql } from './presence';
import { assertActsFor } from './agent-binding';
import { changeStatus, SessionRef } from './status-history';
import { decideStatusChange } from './status-rules';

interface SessionRow {
  id: string;
  agent_id: string;
  login_at: Date;
  login_at_text: string;
  logout_at: Date | null;
  end_reason: string | null;
  status: AgentStatus;
  away_reason: string | null;
  pending_status: 'away' | 'offline' | null;
  last_heartbeat: Date | null;
  device_connected: boolean | null;
  active_calls: number;
  capacity: number;
  current_call_id: string | null;
  ready_at: Date;
  presence: Presence;
  routable: boolean;
}

function toSessionDto(r: SessionRow): SessionDto {
  return {
    id: r.id,
    agent_id: r.agent_id,
    login_at: r.login_at.toISOString(),
    logout_at: r.logout_at?.toISOString() ?? null,
    end_reason: r.end_reason,
    status: r.status,
    away_reason: r.away_reason,
    pending_status: r.pending_status,
    last_heartbeat: r.last_heartbeat?.toISOString() ?? null,
    device_connected: r.device_connected ?? false,
    active_calls: r.active_calls,
    capacity: r.capacity,
    current_call_id: r.current_call_id,
    ready_at: r.ready_at.toISOString(),
    presence: r.presence,
    routable: r.routable,
  };
}

/** $1 is always SESSION_ROUTABLE_HEARTBEAT_SECONDS, $2 the org. */
const SELECT_SESSIONS = `SELECT s.id, s.agent_id, s.login_at, ${timestampText('s.login_at')} AS login_at_text, s.logout_at, s.end_reason, s.status, s.away_reason,
    s.pending_status, p.last_heartbeat, p.device_connected, s.active_calls, s.capacity, s.current_call_id,
    s.ready_at, ${presenceSql('$1')} AS presence, ${routableSql('$1')} AS routable
  FROM agent_sessions s LEFT JOIN agent_presence p ON p.session_id = s.id
  WHERE s.org_id = $2`;
/** Cursors carry milliseconds; timestamptz holds microseconds (see DriversService). */

/**
 * A login session of a call-center agent: what they chose (status), what the system sees
 * (presence, from heartbeats) and whether the router may use them. Status changes go through
 * changeStatus only; they are recorded in agent_status_history, not in the audit log (too many).
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly events: EventPublisher,
    private readonly router: CallRouter,
    private readonly config: AppConfig,
  ) {}

  /**
   * Opens a session, closing the agent's open one as superseded first. The old session keeps
   * its live calls (they end normally and release it); it just gets no new ones.
   */
  async login(dto: LoginDto, principal?: Principal): Promise<SessionDto> {
    const m = this.tenant.manager;
    const orgId = this.tenant.orgId;
    // The agent row lock serializes concurrent logins of one agent (one open session each).
    const [agent] = (await m.query(
      `SELECT id, max_concurrent_calls, now()::text AS now FROM call_agents WHERE id = $1 FOR NO KEY UPDATE`,
      [dto.agent_id],
    )) as { id: string; max_concurrent_calls: number; now: string }[];
    if (!agent) throw new NotFoundException('No such agent.');
    await assertActsFor(m, principal, agent.id);

    const [previous] = (await m.query(
      `SELECT id, status FROM agent_sessions WHERE agent_id = $1 AND logout_at IS NULL FOR UPDATE`,
      [agent.id],
    )) as { id: string; status: AgentStatus }[];
    if (previous) {
      const ref = { id: previous.id, orgId, agentId: agent.id, status: previous.status };
      await changeStatus(m, this.events, ref, 'offline', 'system', 'superseded', {
        logout_at: agent.now,
        end_reason: 'superseded',
        pending_status: null,
        away_reason: null,
      });
    }

    const [created] = (await m.query(
      `INSERT INTO agent_sessions (org_id, agent_id, capacity, status) VALUES ($1, $2, $3, 'available') RETURNING id`,
      [orgId, agent.id, agent.max_concurrent_calls],
    )) as { id: string }[];
    await m.query(`INSERT INTO agent_presence (session_id, org_id, device_connected) VALUES ($1, $2, $3)`, [
      created.id,
      orgId,
      dto.device_connected ?? false,
    ]);
    // A new session has no previous status: history records null → available.
    const fresh: SessionRef = { id: created.id, orgId, agentId: agent.id, status: null as unknown as AgentStatus };
    await changeStatus(m, this.events, fresh, 'available', 'user', 'login');
    await this.router.offerQueuedIn();
    return this.get(created.id);
  }

  /**
   * The hottest route: one statement on agent_presence (never a lock on agent_sessions, which
   * the router holds while claiming). It returns the presence as it was, so queued calls are
   * offered only when this beat made a stale or disconnected agent present again.
   */
  async heartbeat(sessionId: string, deviceConnected: boolean, principal?: Principal): Promise<void> {
    const m = this.tenant.manager;
    // An agent-bound credential's own-agent check rides in the same statement ($4).
    const rows = await returningRows<{ was_present: boolean }>(
      m,
      `WITH before AS (
         SELECT p.session_id, p.device_connected AND p.last_heartbeat > now() - make_interval(secs => $3) AS present
         FROM agent_presence p JOIN agent_sessions s ON s.id = p.session_id
         WHERE p.session_id = $1 AND s.logout_at IS NULL
           AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM call_agents a WHERE a.id = s.agent_id AND a.external_ref = $4))
         FOR UPDATE OF p)
       UPDATE agent_presence p SET last_heartbeat = now(), device_connected = $2
       FROM before b WHERE p.session_id = b.session_id
       RETURNING b.present AS was_present`,
      [
        sessionId,
        deviceConnected,
        this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS'),
        principal?.callAgentRef ?? null,
      ],
    );
    if (!rows.length) {
      // Cold path: tell an unknown session from someone else's and from a closed one.
      const session = await this.tenant.repo(AgentSession).findOneBy({ id: sessionId });
      if (!session) throw new NotFoundException('No such session.');
      await assertActsFor(m, principal, session.agentId);
      throw new ProblemException(409, 'The session is closed; log in again.', { slug: 'session-closed' });
    }
    if (deviceConnected && !rows[0].was_present) await this.router.offerQueuedIn();
  }

  async setStatus(sessionId: string, dto: ChangeStatusDto, principal?: Principal): Promise<SessionDto> {
    const m = this.tenant.manager;
    const session = await this.lock(sessionId);
    await assertActsFor(m, principal, session.agentId);
    const decision = decideStatusChange(
      {
        closed: session.logoutAt !== null,
        status: session.status,
        pendingStatus: session.pendingStatus,
        awayReason: session.awayReason,
        activeCalls: session.activeCalls,
      },
      { to: dto.status, reason: dto.reason },
    );
    switch (decision.kind) {
      case 'closed':
        throw new ProblemException(409, 'The session is closed; log in again.', { slug: 'session-closed' });
      case 'invalid':
        throw new ProblemException(400, `The request is invalid: ${decision.message}.`, {
          errors: [{ field: decision.field, message: decision.message }],
        });
      case 'noop':
        break;
      case 'update':
        await m.query(`UPDATE agent_sessions SET pending_status = $2, away_reason = $3 WHERE id = $1`, [
          session.id,
          decision.set.pending_status,
          decision.set.away_reason,
        ]);
        break;
      case 'change':
        await changeStatus(m, this.events, session, decision.to, 'user', dto.reason?.trim() || null, {
          ...decision.set,
        });
        break;
    }
    if (decision.kind !== 'noop' && decision.offer) await this.router.offerQueuedIn();
    return this.get(sessionId);
  }

  /**
   * Closes the session; a closed one is returned as it is (idempotent, for sendBeacon retries).
   * Live calls are not dropped: they stay on the closed session and release it when they end.
   */
  async logout(sessionId: string, principal?: Principal): Promise<SessionDto> {
    const m = this.tenant.manager;
    const session = await this.lock(sessionId);
    await assertActsFor(m, principal, session.agentId);
    if (session.logoutAt === null) {
      const [{ now }] = (await m.query(`SELECT now()::text AS now`)) as { now: string }[];
      await changeStatus(m, this.events, session, 'offline', 'user', 'logout', {
        logout_at: now,
        end_reason: 'logout',
        pending_status: null,
        away_reason: null,
      });
    }
    return this.get(sessionId);
  }

  /** One session, open or closed; unknown and other orgs' (hidden by RLS) are the same 404. */
  async get(sessionId: string): Promise<SessionDto> {
    const [row] = (await this.tenant.manager.query(`${SELECT_SESSIONS} AND s.id = $3`, [
      this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS'),
      this.tenant.orgId,
      sessionId,
    ])) as SessionRow[];
    if (!row) throw new NotFoundException('No such session.');
    return toSessionDto(row);
  }

  /** Open sessions, newest login first, filtered in SQL by status and routability. */
  async list(query: SessionListQueryDto): Promise<SessionPageDto> {
    const limit = query.limit ?? 50;
    const params: unknown[] = [this.config.get('SESSION_ROUTABLE_HEARTBEAT_SECONDS'), this.tenant.orgId];
    const where = ['s.logout_at IS NULL'];
    const param = (value: unknown) => `$${params.push(value)}`;
    if (query.status) where.push(`s.status = ${param(query.status)}`);
    if (query.routable) where.push(`${routableSql('$1')} = ${param(query.routable === 'true')}`);
    const after = decodeCursor(query.cursor);
    if (after) where.push(`(s.login_at, s.id) < (${param(after.at)}::timestamptz, ${param(after.id)}::uuid)`);
    const rows = (await this.tenant.manager.query(
      `${SELECT_SESSIONS} AND ${where.join(' AND ')} ORDER BY s.login_at DESC, s.id DESC LIMIT ${param(limit + 1)}`,
      params,
    )) as SessionRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toSessionDto),
      next_cursor: rows.length > limit && last ? encodeCursor({ at: last.login_at_text, id: last.id }) : null,
    };
  }

  private async lock(sessionId: string): Promise<AgentSession> {
    const session = await this.tenant
      .repo(AgentSession)
      .findOne({ where: { id: sessionId }, lock: { mode: 'pessimistic_write' } });
    if (!session) throw new NotFoundException('No such session.');
    return session;
  }
}
