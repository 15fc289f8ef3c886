import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The transactional outbox: a domain event is a row written in the same transaction as the
 * state change it describes, then relayed to subscribers by the worker.
 */
@Entity('domain_events')
@Index('domain_events_org_created', ['orgId', 'createdAt'])
@Index('domain_events_unrelayed', ['createdAt'], { where: 'relayed_at IS NULL' })
export class DomainEventRecord {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  orgId!: string;

  @Column('text')
  type!: string;

  @Column('jsonb')
  data!: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { nullable: true })
  relayedAt!: Date | null;
}
