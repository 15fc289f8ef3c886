import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One question to an assistant agent and its answer (tool calls and proposals hang off it). */
@Entity('agent_conversations')
@Index('agent_conversations_org_created_id', ['orgId', 'createdAt', 'id'])
export class Conversation {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') agent!: string;
  /** `rules: <rule>`, `requested`, or `none` (escalated). */
  @Column('text') routedBy!: string;
  @Column('text') message!: string;
  @Column('jsonb', { default: () => "'{}'" }) context!: Record<string, string>;
  @Column('text') answer!: string;
  @Column('jsonb', { default: () => "'[]'" }) evidence!: unknown[];
  @Column('float8') confidence!: number;
  @Column('text') provider!: string;
  @Column('integer', { default: 0 }) inputTokens!: number;
  @Column('integer', { default: 0 }) outputTokens!: number;
  @Column('bigint', { default: 0 }) costMicroUsd!: string;
  @Column('text') requestedByType!: string;
  @Column('text') requestedBy!: string;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
