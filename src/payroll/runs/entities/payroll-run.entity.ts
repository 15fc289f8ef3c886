import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'completed_with_flags',
  'failed',
  'cancelled',
  'superseded',
] as const;
export interface RunWarning {
  code: 'NO_TICKETS';
  message: string;
}

export type RunStatus = (typeof RUN_STATUSES)[number];
export const LIVE_STATUSES: RunStatus[] = ['queued', 'running', 'paused'];
export const FINAL_STATUSES: RunStatus[] = ['completed', 'completed_with_flags', 'failed', 'cancelled', 'superseded'];

@Entity('payroll_runs')
@Index('payroll_runs_one_running_per_org', ['orgId'], { unique: true, where: `status = 'running'` })
@Index('payroll_runs_one_live_per_period', ['orgId', 'payPeriodStart', 'payPeriodEnd'], {
  unique: true,
  where: `status IN ('queued', 'running', 'paused')`,
})
@Index('payroll_runs_idempotency', ['orgId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
@Index('payroll_runs_dispatch', ['queuedAt', 'id'], { where: `status = 'queued'` })
@Index('payroll_runs_org_created_id', ['orgId', 'createdAt', 'id'])
@Check(
  'payroll_runs_status_check',
  `status IN ('queued', 'running', 'paused', 'completed', 'completed_with_flags', 'failed', 'cancelled', 'superseded')`,
)
@Check('payroll_runs_period_check', `pay_period_end >= pay_period_start AND pay_period_end - pay_period_start <= 30`)
export class PayrollRun {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('date') payPeriodStart!: string;
  @Column('date') payPeriodEnd!: string;
  @Column('text', { default: 'queued' }) status!: RunStatus;
  @Column('text', { nullable: true }) idempotencyKey!: string | null;
  @Column('integer', { default: 0 }) attempts!: number;
  @Column('timestamptz', { default: () => 'now()' }) nextAttemptAt!: Date;
  @Column('text', { nullable: true }) lastError!: string | null;
  @Column('text', { default: 'tickets' }) phase!: 'tickets' | 'finalize';
  @Column('date', { nullable: true }) cursorWorkDate!: string | null;
  @Column('uuid', { nullable: true }) cursorTicketId!: string | null;
  @Column('uuid', { nullable: true }) cursorDriverId!: string | null;
  @Column('integer', { default: 0 }) processedTickets!: number;
  @Column('integer', { default: 0 }) totalTickets!: number;
  @Column('boolean', { default: false }) pauseRequested!: boolean;
  @Column('boolean', { default: false }) cancelRequested!: boolean;
  @Column('text', { nullable: true }) pausedReason!: string | null;
  @Column('uuid', { nullable: true }) leaseOwner!: string | null;
  @Column('timestamptz', { nullable: true }) leaseExpiresAt!: Date | null;
  @Column('timestamptz', { default: () => 'now()' }) queuedAt!: Date;
  @Column('timestamptz', { nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) finishedAt!: Date | null;
  @Column('bigint', { default: 0 }) grossCents!: string;
  @Column('bigint', { default: 0 }) deductionsCents!: string;
  @Column('bigint', { default: 0 }) netCents!: string;
  @Column('bigint', { default: 0 }) heldCents!: string;
  @Column('integer', { default: 0 }) flagsBlocking!: number;
  @Column('integer', { default: 0 }) flagsWarning!: number;
  /** Warnings about the run as a whole (e.g. NO_TICKETS), counted in flagsWarning too. */
  @Column('jsonb', { default: () => "'[]'" }) warnings!: RunWarning[];
  @Column('uuid', { nullable: true }) supersededBy!: string | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
