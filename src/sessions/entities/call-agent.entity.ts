import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A human call-center agent. */
@Entity('call_agents')
@Index('call_agents_org_created_id', ['orgId', 'createdAt', 'id'])
@Index('call_agents_org_external_ref', ['orgId', 'externalRef'], { unique: true, where: 'external_ref IS NOT NULL' })
@Check('call_agents_capacity_check', `max_concurrent_calls BETWEEN 1 AND 50`)
@Check('call_agents_wrap_up_check', `wrap_up_seconds BETWEEN 0 AND 3600`)
export class CallAgent {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') name!: string;
  @Column('text', { nullable: true }) externalRef!: string | null;
  @Column('integer', { default: 1 }) maxConcurrentCalls!: number;
  @Column('integer', { default: 0 }) wrapUpSeconds!: number;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
