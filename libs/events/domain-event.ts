import { SetMetadata } from '@nestjs/common';

/** What subscribers receive: the outbox row, snake_case like the HTTP API. */
export interface DomainEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  org_id: string;
  created_at: string;
  data: T;
}

export const ON_DOMAIN_EVENT = Symbol('ON_DOMAIN_EVENT');

/**
 * Subscribes the method to a domain event type. Each subscriber gets its own queue, so a slow
 * or failing subscriber neither blocks nor repeats the others. Handlers must be idempotent
 * (use the event id).
 */
export const OnDomainEvent = (type: string, options: DomainEventSubscriberOptions = {}): MethodDecorator =>
  SetMetadata<symbol, DomainEventSubscription>(ON_DOMAIN_EVENT, { type, ...options });

export interface DomainEventSubscriberOptions {
  /** Concurrent fetch loops of the subscriber's queue per worker process (default 1). */
  workers?: number;
  /** Events fetched per loop iteration, handled one at a time (default 1). */
  batchSize?: number;
  /**
   * The method takes `DomainEvent[]`. The relay sends such a subscriber one job per relayed batch
   * of events (up to 200), and a fetch of `batchSize` jobs is handled in one call; when that call
   * throws, the fetched jobs are run one by one (a job's events together), and a failed job is
   * retried as a whole, so the method must be idempotent per event.
   */
  batched?: boolean;
}

export interface DomainEventSubscription extends DomainEventSubscriberOptions {
  type: string;
}
