import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { ApprovalRequest } from './approval-request.entity';

/** A support ticket created by an approved draft (one per approval, whatever retries happen). */
@Entity('support_tickets')
@Unique('support_tickets_once', ['approvalId'])
@Index('support_tickets_org_created_id', ['orgId', 'createdAt', 'id'])
@Check('support_tickets_priority_check', `priority IN ('low', 'normal', 'high', 'urgent')`)
export class SupportTicket {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') approvalId!: string;
  @ManyToOne(() => ApprovalRequest)
  @JoinColumn({ name: 'approval_id', foreignKeyConstraintName: 'support_tickets_approval_id_fkey' })
  approval?: ApprovalRequest;
  @Column('text') subject!: string;
  @Column('text') body!: string;
  @Column('text') priority!: 'low' | 'normal' | 'high' | 'urgent';
  @Column('uuid', { nullable: true }) payrollRunId!: string | null;
  @Column('uuid', { array: true, default: () => "'{}'" }) ticketIds!: string[];
  @Column('text') createdBy!: string;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
