import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique, ValueTransformer } from 'typeorm';
import type { AuditActorType } from './audit-chain';

/** pg returns bigint as a string; a per-org sequence number stays far below 2^53. */
const bigintAsNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | null) => (value === null || value === undefined ? value : Number(value)),
};

/**
 * One entry of an org's append-only, hash-chained audit log (see migration AuditLog). Rows are
 * written only by AuditService.record(); nothing updates or deletes them.
 */
@Entity('audit_events')
@Unique('audit_events_org_seq', ['orgId', 'seq'])
@Index('audit_events_org_at', ['orgId', 'at'])
@Check('audit_events_actor_type', `actor_type IN ('user', 'api_key', 'platform_key', 'system')`)
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  orgId!: string;

  /** 1, 2, 3… per org, without gaps. */
  @Column('bigint', { transformer: bigintAsNumber })
  seq!: number;

  @Column('timestamptz')
  at!: Date;

  @Column('text')
  actorType!: AuditActorType;

  @Column('text')
  actorId!: string;

  /** `<resource>.<past-tense verb>`, e.g. `api_key.created`. */
  @Column('text')
  action!: string;

  @Column('text', { nullable: true })
  targetType!: string | null;

  @Column('text', { nullable: true })
  targetId!: string | null;

  @Column('jsonb', { default: {} })
  data!: Record<string, unknown>;

  @Column('text', { nullable: true })
  requestId!: string | null;

  /** The previous event's hash (64 zeros for seq 1). */
  @Column('text')
  prevHash!: string;

  @Column('text')
  hash!: string;
}
