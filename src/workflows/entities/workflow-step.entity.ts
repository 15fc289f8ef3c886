import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { WorkflowRun } from './workflow-run.entity';

/** A finished step: its output and its completion are this one row, written in one transaction. */
@Entity('workflow_steps')
@Unique('workflow_steps_once', ['runId', 'step', 'branch', 'round'])
@Unique('workflow_steps_seq', ['runId', 'seq'])
@Index('workflow_steps_org', ['orgId'])
export class WorkflowStep {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') runId!: string;
  @ManyToOne(() => WorkflowRun)
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'workflow_steps_run_id_fkey' })
  run?: WorkflowRun;
  @Column('integer') seq!: number;
  @Column('integer') step!: number;
  @Column('integer') branch!: number;
  @Column('integer') round!: number;
  @Column('text') agent!: string;
  @Column('jsonb') input!: Record<string, unknown>;
  @Column('jsonb') output!: StepOutput;
  @Column('jsonb', { default: () => "'[]'" }) toolCalls!: unknown[];
  @Column('float8') durationMs!: number;
  @Column('integer') attempts!: number;
  @Column('uuid') executedBy!: string;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

export interface StepOutput {
  answer: string;
  evidence: unknown[];
  confidence: number;
  approval_ids: string[];
  denied: { tool: string; missing: string[] }[];
  provider?: 'rules' | 'anthropic';
  input_tokens?: number;
  output_tokens?: number;
}
