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

@Entity('webhook_sources')
@Index('webhook_sources_org_created_id', ['orgId', 'createdAt', 'id'])
@Check('webhook_sources_provider_check', `provider IN ('twilio', 'standard')`)
export class WebhookSource {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') provider!: 'twilio' | 'standard';
  @Column('text') name!: string;
  /** Twilio auth token or `whsec_…`, encrypted with SecretBox. */
  @Column('text') secretCiphertext!: string;
  /** Twilio signs the public URL it called; behind a proxy it differs from ours. */
  @Column('text', { nullable: true }) publicUrl!: string | null;
  @Column('timestamptz', { nullable: true }) deletedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

/** Exactly-once: one row per (source, provider event id). */
@Entity('processed_webhook_events')
@Unique('processed_webhook_events_once', ['sourceId', 'eventId'])
@Index('processed_webhook_events_org', ['orgId', 'receivedAt'])
@Index('processed_webhook_events_received', ['receivedAt'])
@Check('processed_webhook_events_status_check', `status IN ('received', 'processing', 'processed', 'failed')`)
export class ProcessedWebhookEvent {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') sourceId!: string;
  @ManyToOne(() => WebhookSource)
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'processed_webhook_events_source_id_fkey' })
  source?: WebhookSource;
  @Column('text') eventId!: string;
  @Column('text', { default: 'received' }) status!: 'received' | 'processing' | 'processed' | 'failed';
  @Column('integer', { default: 0 }) attempts!: number;
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('text', { nullable: true }) lastError!: string | null;
  @Column('timestamptz', { default: () => 'now()' }) receivedAt!: Date;
  @Column('timestamptz', { nullable: true }) processedAt!: Date | null;
}
