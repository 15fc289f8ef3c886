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
import { Conversation } from './conversation.entity';

/** One tool call of a conversation, in order: inputs, outputs, duration, or why it was denied. */
@Entity('agent_tool_calls')
@Unique('agent_tool_calls_once', ['conversationId', 'seq'])
@Index('agent_tool_calls_org', ['orgId'])
@Check('agent_tool_calls_outcome_check', `outcome IN ('ok', 'denied', 'failed')`)
export class ToolCall {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') conversationId!: string;
  @ManyToOne(() => Conversation)
  @JoinColumn({ name: 'conversation_id', foreignKeyConstraintName: 'agent_tool_calls_conversation_id_fkey' })
  conversation?: Conversation;
  @Column('integer') seq!: number;
  @Column('text') tool!: string;
  @Column('integer') toolVersion!: number;
  @Column('jsonb') input!: unknown;
  @Column('jsonb', { nullable: true }) output!: unknown;
  @Column('text') outcome!: 'ok' | 'denied' | 'failed';
  @Column('text', { nullable: true }) error!: string | null;
  @Column('float8') durationMs!: number;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
