import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PayrollRun } from './payroll-run.entity';

export interface StoredFlag {
  code: string;
  severity: 'blocking' | 'warning';
}

/** One computed pay line; the unique key makes paying a ticket twice in a run impossible. */
@Entity('payroll_run_lines')
@Unique('payroll_run_lines_once', ['runId', 'lineKey', 'kind'])
@Index('payroll_run_lines_org', ['orgId'])
@Index('payroll_run_lines_run_driver', ['runId', 'driverId'])
export class RunLine {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') runId!: string;
  @ManyToOne(() => PayrollRun)
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'payroll_run_lines_run_id_fkey' })
  run?: PayrollRun;
  @Column('uuid') driverId!: string;
  @Column('text') lineKey!: string;
  @Column('text') kind!: string;
  @Column('uuid', { nullable: true }) ticketId!: string | null;
  @Column('text', { nullable: true }) ticketNumber!: string | null;
  @Column('date', { nullable: true }) workDate!: string | null;
  @Column('numeric', { precision: 14, scale: 3, nullable: true }) quantity!: string | null;
  @Column('text', { nullable: true }) unit!: string | null;
  /** The ticket's hours whatever the pay type: EXCESSIVE_HOURS is judged from stored lines. */
  @Column('numeric', { precision: 12, scale: 3, nullable: true }) ticketHours!: string | null;
  @Column('numeric', { precision: 16, scale: 6, nullable: true }) rate!: string | null;
  @Column('bigint') amountCents!: string;
  @Column('boolean') held!: boolean;
  @Column('jsonb', { default: () => `'[]'` }) flags!: StoredFlag[];
}

@Entity('payroll_statements')
@Unique('payroll_statements_once', ['runId', 'driverId'])
@Index('payroll_statements_org', ['orgId'])
export class Statement {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') runId!: string;
  @ManyToOne(() => PayrollRun)
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'payroll_statements_run_id_fkey' })
  run?: PayrollRun;
  @Column('uuid') driverId!: string;
  @Column('bigint') grossCents!: string;
  @Column('bigint') heldCents!: string;
  @Column('bigint') deductionsCents!: string;
  @Column('bigint') netCents!: string;
  @Column('jsonb', { default: () => `'[]'` }) flags!: StoredFlag[];
}

@Entity('payroll_deduction_applications')
@Unique('payroll_deduction_applications_once', ['runId', 'deductionId'])
@Index('payroll_deduction_applications_org', ['orgId', 'deductionId'])
export class DeductionApplicationRow {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') runId!: string;
  @ManyToOne(() => PayrollRun)
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'payroll_deduction_applications_run_id_fkey' })
  run?: PayrollRun;
  @Column('uuid') driverId!: string;
  @Column('uuid') deductionId!: string;
  @Column('text') name!: string;
  @Column('bigint') wantedCents!: string;
  @Column('bigint') cappedCents!: string;
  @Column('bigint') appliedCents!: string;
  @Column('bigint') shortfallCents!: string;
}

/** Append-only status history of a run. */
@Entity('payroll_run_events')
@Index('payroll_run_events_org_run', ['orgId', 'runId', 'at'])
export class RunEvent {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') runId!: string;
  @ManyToOne(() => PayrollRun)
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'payroll_run_events_run_id_fkey' })
  run?: PayrollRun;
  @Column('text', { nullable: true }) fromStatus!: string | null;
  @Column('text') toStatus!: string;
  @Column('text') actor!: string;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
}
