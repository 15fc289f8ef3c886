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
  UpdateDateColumn,
} from 'typeorm';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export const DELIVERY_STATUSES = ['pending', 'delivering', 'succeeded', 'failed', 'deferred'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One (event, endpoint) pair; the event id is the `webhook-id`, the same on every attempt. */
@Entity('webhook_deliveries')
@Unique('webhook_deliveries_once', ['endpointId', 'eventId'])
@Index('webhook_deliveries_org_created', ['orgId', 'createdAt', 'id'])
@Index('webhook_deliveries_endpoint_status', ['endpointId', 'status'])
@Index('webhook_deliveries_unfinished', ['status', 'nextAttemptAt'], {
  where: `status IN ('pending', 'deferred', 'delivering')`,
})
@Check('webhook_deliveries_status_check', `status IN ('pending', 'delivering', 'succeeded', 'failed', 'deferred')`)
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') endpointId!: string;
  @ManyToOne(() => WebhookEndpoint)
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'webhook_deliveries_endpoint_id_fkey' })
  endpoint?: WebhookEndpoint;
  @Column('uuid') eventId!: string;
  @Column('text') eventType!: string;
  /** The exact envelope sent: {id, type, created_at, org_id, data}. */
  @Column('jsonb') payload!: Record<string, unknown>;
  @Column('text', { default: 'pending' }) status!: DeliveryStatus;
  @Column('integer', { default: 0 }) attempts!: number;
  @Column('timestamptz', { default: () => 'now()' }) nextAttemptAt!: Date;
  @Column('integer', { nullable: true }) lastStatusCode!: number | null;
  @Column('text', { nullable: true }) lastError!: string | null;
  @Column('timestamptz', { nullable: true }) succeededAt!: Date | null;
  /** The send slot this delivery holds at a rate-limited endpoint (it is not sent before). */
  @Column('timestamptz', { nullable: true }) rateSlotAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

/** Append-only: one row per attempt. */
@Entity('webhook_delivery_log')
@Unique('webhook_delivery_log_once', ['deliveryId', 'attempt'])
@Index('webhook_delivery_log_org_at', ['orgId', 'at'])
@Index('webhook_delivery_log_at', ['at'])
export class WebhookDeliveryAttempt {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') deliveryId!: string;
  @ManyToOne(() => WebhookDelivery)
  @JoinColumn({ name: 'delivery_id', foreignKeyConstraintName: 'webhook_delivery_log_delivery_id_fkey' })
  delivery?: WebhookDelivery;
  @Column('integer') attempt!: number;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
  @Column('integer', { nullable: true }) statusCode!: number | null;
  @Column('integer') latencyMs!: number;
  @Column('text', { nullable: true }) errorClass!: string | null;
  /** The first 2 KB of the response body. */
  @Column('text', { nullable: true }) responseBody!: string | null;
}
