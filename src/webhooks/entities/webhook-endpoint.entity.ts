import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('webhook_endpoints')
@Index('webhook_endpoints_org_created_id', ['orgId', 'createdAt', 'id'])
@Check('webhook_endpoints_format_check', `format IN ('standard', 'slack')`)
@Check('webhook_endpoints_breaker_check', `breaker_state IN ('closed', 'open', 'half_open')`)
@Check('webhook_endpoints_rate_check', `rate_limit_per_second > 0`)
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') url!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('text', { array: true }) eventTypes!: string[];
  @Column('text', { default: 'standard' }) format!: 'standard' | 'slack';
  @Column('integer', { nullable: true }) rateLimitPerSecond!: number | null;
  /** The next free send slot when rate-limited: slots are 1/rate_limit_per_second apart. */
  @Column('timestamptz', { nullable: true }) rateNextSlotAt!: Date | null;
  @Column('boolean', { default: true }) enabled!: boolean;
  @Column('text', { nullable: true }) disabledReason!: string | null;
  @Column('timestamptz', { nullable: true }) disabledAt!: Date | null;
  /** `whsec_…`, encrypted with SecretBox (libs/crypto). */
  @Column('text') secretCiphertext!: string;
  /** After a rotation the old secret still signs until this time (two signatures). */
  @Column('text', { nullable: true }) previousSecretCiphertext!: string | null;
  @Column('timestamptz', { nullable: true }) previousSecretExpiresAt!: Date | null;
  @Column('text', { default: 'closed' }) breakerState!: 'closed' | 'open' | 'half_open';
  @Column('integer', { default: 0 }) breakerFailures!: number;
  @Column('timestamptz', { nullable: true }) breakerOpenedAt!: Date | null;
  @Column('boolean', { default: false }) breakerProbeInFlight!: boolean;
  /** First failure since the last success: the auto-disable clock. */
  @Column('timestamptz', { nullable: true }) failingSince!: Date | null;
  @Column('timestamptz', { nullable: true }) lastSuccessAt!: Date | null;
  @Column('timestamptz', { nullable: true }) deletedAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
