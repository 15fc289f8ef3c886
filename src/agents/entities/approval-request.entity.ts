import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Conversation } from './conversation.entity';

export const APPROVAL_STATUSES = [
  'pending',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'executing',
  'executed',
  'execution_failed',
] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A drafted action waiting for a human: bound to its tool version and frozen arguments' hash. */
@Entity('approval_requests')
@Index('approval_requests_org_created_id', ['orgId', 'createdAt', 'id'])
@Index('approval_requests_waiting', ['status', 'updatedAt'], { where: `status IN ('pending', 'approved')` })
@Index('approval_requests_workflow', ['workflowRunId'], { where: 'workflow_run_id IS NOT NULL' })
@Check(
  'approval_requests_status_check',
  `status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled', 'executing', 'executed', 'execution_failed')`,
)
export class ApprovalRequest {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid', { nullable: true }) conversationId!: string | null;
  @ManyToOne(() => Conversation)
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'approval_requests_conversation_id_fkey' })
  conversation?: Conversation;
  /** Set when a workflow step drafted it (the run waits for the decision). */
  @Column('uuid', { nullable: true }) workflowRunId!: string | null;
  @Column('text') agent!: string;
  @Column('text') tool!: string;
  @Column('integer') toolVersion!: number;
  @Column('jsonb') arguments!: Record<string, unknown>;
  @Column('text') argumentsHash!: string;
  @Column('text') summary!: string;
  @Column('text', { default: 'pending' }) status!: ApprovalStatus;
  @Column('text') requestedByType!: string;
  @Column('text') requestedBy!: string;
  @Column('text', { nullable: true }) decidedByType!: string | null;
  @Column('text', { nullable: true }) decidedBy!: string | null;
  @Column('text', { nullable: true }) decisionReason!: string | null;
  @Column('timestamptz', { nullable: true }) decidedAt!: Date | null;
  @Column('timestamptz') expiresAt!: Date;
  @Column('timestamptz', { nullable: true }) executedAt!: Date | null;
  @Column('jsonb', { nullable: true }) result!: Record<string, unknown> | null;
  @Column('text', { nullable: true }) error!: string | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
