import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CALL_STATUSES = ['queued', 'ringing', 'in_progress', 'completed', 'abandoned', 'failed'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export const LIVE_CALL_STATUSES: CallStatus[] = ['ringing', 'in_progress'];

@Entity('calls')
@Index('calls_org_external_id', ['orgId', 'externalId'], { unique: true, where: 'external_id IS NOT NULL' })
@Index('calls_org_queue', ['orgId', 'queuedAt', 'id'], { where: `status = 'queued'` })
@Index('calls_session_live', ['sessionId'], { where: `status IN ('ringing', 'in_progress')` })
@Index('calls_org_created', ['orgId', 'createdAt'])
@Check('calls_status_check', `status IN ('queued', 'ringing', 'in_progress', 'completed', 'abandoned', 'failed')`)
export class Call {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  /** The telephony provider's call id, unique per org. */
  @Column('text', { nullable: true }) externalId!: string | null;
  @Column('text') fromNumber!: string;
  @Column('text', { nullable: true }) toNumber!: string | null;
  @Column('text', { default: 'queued' }) status!: CallStatus;
  @Column('uuid', { nullable: true }) agentId!: string | null;
  @Column('uuid', { nullable: true }) sessionId!: string | null;
  /** A ringing offer expires at this time and goes to the next agent. */
  @Column('timestamptz', { nullable: true }) reservedUntil!: Date | null;
  @Column('integer', { default: 0 }) offerCount!: number;
  @Column('uuid', { nullable: true }) lastMissedSessionId!: string | null;
  @Column('timestamptz', { default: () => 'now()' }) queuedAt!: Date;
  @Column('timestamptz', { nullable: true }) assignedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) answeredAt!: Date | null;
  @Column('timestamptz', { nullable: true }) endedAt!: Date | null;
  @Column('text', { nullable: true }) endReason!: string | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
