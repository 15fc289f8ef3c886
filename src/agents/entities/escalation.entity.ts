import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApprovalRequest } from './approval-request.entity';
import { Conversation } from './conversation.entity';

export const ESCALATION_REASONS = [
  'no_agent',
  'low_confidence',
  'policy_denied',
  'provider_unavailable',
  'approval_expired',
] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/** A question or action handed to a human, with why. */
@Entity('escalations')
@Index('escalations_org_created_id', ['orgId', 'createdAt', 'id'])
@Index('escalations_approval_once', ['approvalId'], { unique: true })
@Check(
  'escalations_reason_check',
  `reason IN ('no_agent', 'low_confidence', 'policy_denied', 'provider_unavailable', 'approval_expired')`,
)
export class Escalation {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid', { nullable: true }) conversationId!: string | null;
  @ManyToOne(() => Conversation)
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'escalations_conversation_id_fkey' })
  conversation?: Conversation;
  @Column('uuid', { nullable: true }) approvalId!: string | null;
  @ManyToOne(() => ApprovalRequest)
  @JoinColumn({ name: 'approval_id', foreignKeyConstraintName: 'escalations_approval_id_fkey' })
  approval?: ApprovalRequest;
  @Column('text') reason!: EscalationReason;
  @Column('text') detail!: string;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
