import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BreakerSnapshot } from '../../../libs/resilience';

/** The breaker of one operator alert channel, keyed by a hash of its URL (a URL may hold a token). */
@Entity('ops_alert_channels')
export class OpsAlertChannel {
  @PrimaryColumn('text') urlHash!: string;
  @Column('jsonb', { default: () => "'{}'" }) breaker!: Partial<BreakerSnapshot>;
  @Column('timestamptz', { default: () => 'now()' }) updatedAt!: Date;
}
