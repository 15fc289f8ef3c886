import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  OneToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { CallAgent } from './call-agent.entity';

export const AGENT_STATUSES = ['available', 'away', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** What the agent chose and the work in hand; the router locks this row. */
@Entity('agent_sessions')
@Index('agent_sessions_org_open', ['orgId', 'status'], { where: 'logout_at IS NULL' })
@Index('agent_sessions_one_open', ['agentId'], { unique: true, where: 'logout_at IS NULL' })
@Index('agent_sessions_wake_at', ['wakeAt'], { where: 'wake_at IS NOT NULL' })
@Index('agent_sessions_routable', ['orgId', 'idleSince', 'id'], {
  where: `logout_at IS NULL AND status = 'available' AND pending_status IS NULL`,
})
@Check('agent_sessions_status_check', `status IN ('available', 'away', 'offline')`)
@Check('agent_sessions_pending_check', `pending_status IS NULL OR pending_status IN ('away', 'offline')`)
@Check('agent_sessions_calls_check', `active_calls BETWEEN 0 AND capacity`)
export class AgentSession {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') agentId!: string;
  @ManyToOne(() => CallAgent)
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'agent_sessions_agent_id_fkey' })
  agent?: CallAgent;
  @Column('timestamptz', { default: () => 'now()' }) loginAt!: Date;
  @Column('timestamptz', { nullable: true }) logoutAt!: Date | null;
  @Column('text', { nullable: true }) endReason!: string | null;
  @Column('text', { default: 'available' }) status!: AgentStatus;
  @Column('text', { nullable: true }) awayReason!: string | null;
  @Column('text', { nullable: true }) pendingStatus!: 'away' | 'offline' | null;
  /** The agent's max_concurrent_calls when the session began (the constraint's bound). */
  @Column('integer') capacity!: number;
  @Column('integer', { default: 0 }) activeCalls!: number;
  @Column('uuid', { nullable: true }) currentCallId!: string | null;
  /** Not routable before this (wrap-up after a call). */
  @Column('timestamptz', { default: () => 'now()' }) readyAt!: Date;
  /** Since when the agent has had no call: the router picks the longest idle. */
  @Column('timestamptz', { default: () => 'now()' }) idleSince!: Date;
  /** Missed an offer: not offered again before this. */
  @Column('timestamptz', { nullable: true }) offerCooldownUntil!: Date | null;
  /**
   * When time alone makes the session routable again (the later of ready_at and
   * offer_cooldown_until, while still ahead); kept by a trigger, cleared by the wake loop.
   */
  @Column('timestamptz', { nullable: true }) wakeAt!: Date | null;
  /** Set by the sweeper when the agent went silent while on a live call. */
  @Column('timestamptz', { nullable: true }) staleFlaggedAt!: Date | null;
}

/** What the system sees, from heartbeats; kept off the row the router locks. */
@Entity('agent_presence')
@Index('agent_presence_org', ['orgId', 'lastHeartbeat'])
export class AgentPresence {
  @PrimaryColumn('uuid') sessionId!: string;
  @OneToOne(() => AgentSession)
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'agent_presence_session_id_fkey' })
  session?: AgentSession;
  @Column('uuid') orgId!: string;
  @Column('timestamptz', { default: () => 'now()' }) lastHeartbeat!: Date;
  @Column('boolean', { default: false }) deviceConnected!: boolean;
}

/** Append-only: every status change, by the agent or by the system, with its reason. */
@Entity('agent_status_history')
@Index('agent_status_history_org_session', ['orgId', 'sessionId', 'at'])
@Check('agent_status_history_actor_check', `actor IN ('user', 'system')`)
export class AgentStatusHistory {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') sessionId!: string;
  @ManyToOne(() => AgentSession)
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'agent_status_history_session_id_fkey' })
  session?: AgentSession;
  @Column('uuid') agentId!: string;
  @Column('text', { nullable: true }) fromStatus!: string | null;
  @Column('text') toStatus!: string;
  @Column('text') actor!: 'user' | 'system';
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
}
