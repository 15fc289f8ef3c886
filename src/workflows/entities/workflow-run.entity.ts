import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const PATTERNS = ['sequential', 'parallel', 'debate', 'verification', 'panel'] as const;
export type Pattern = (typeof PATTERNS)[number];
export const WORKFLOW_STATUSES = [
  'queued',
  'running',
  'waiting_approval',
  'completed',
  'failed',
  'cancelled',
  'escalated',
] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];
export const LIVE_WORKFLOW_STATUSES: WorkflowStatus[] = ['queued', 'running', 'waiting_approval'];

/** A multi-agent workflow: what to run, where it stands, and who holds its lease. */
@Entity('workflow_runs')
@Index('workflow_runs_org_created_id', ['orgId', 'createdAt', 'id'])
@Index('workflow_runs_idempotency', ['orgId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
@Index('workflow_runs_live', ['status', 'leaseExpiresAt'], {
  where: `status IN ('queued', 'running', 'waiting_approval')`,
})
@Check('workflow_runs_pattern_check', `pattern IN ('sequential', 'parallel', 'debate', 'verification', 'panel')`)
@Check(
  'workflow_runs_status_check',
  `status IN ('queued', 'running', 'waiting_approval', 'completed', 'failed', 'cancelled', 'escalated')`,
)
export class WorkflowRun {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') pattern!: Pattern;
  @Column('text', { array: true }) agents!: string[];
  @Column('jsonb') input!: { message: string; context?: Record<string, string> };
  @Column('jsonb', { default: () => "'{}'" }) options!: Record<string, unknown>;
  @Column('text', { default: 'queued' }) status!: WorkflowStatus;
  @Column('integer', { default: 0 }) version!: number;
  @Column('integer', { default: 0 }) stepsDone!: number;
  @Column('uuid', { nullable: true }) leaseOwner!: string | null;
  @Column('timestamptz', { nullable: true }) leaseExpiresAt!: Date | null;
  @Column('jsonb', { nullable: true }) result!: Record<string, unknown> | null;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('text', { nullable: true }) idempotencyKey!: string | null;
  @Column('text') requestedByType!: string;
  @Column('text') requestedBy!: string;
  @Column('text', { array: true }) requestedScopes!: string[];
  @Column('timestamptz', { nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) finishedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
