import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { findDecoratedMethods } from '../discovery';
import { JobRegistry } from '../queue';
import { DomainEvent, DomainEventSubscription, ON_DOMAIN_EVENT } from './domain-event';

/** How long an event subscriber's job may run before pg-boss takes it back (and retries it). */
export const EVENT_JOB_EXPIRE_SECONDS = 60;

/** Finds `@OnDomainEvent` methods and gives each its own queue. */
@Injectable()
export class EventSubscriptions implements OnModuleInit {
  private readonly byType = new Map<string, string[]>();
  /** Queues of `batched` subscribers: one job carries many events ({ events: [...] }). */
  private readonly batchedQueues = new Set<string>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly jobs: JobRegistry,
  ) {}

  onModuleInit(): void {
    const found = findDecoratedMethods<DomainEventSubscription>(
      this.discovery,
      this.scanner,
      this.reflector,
      ON_DOMAIN_EVENT,
    );
    for (const { meta, owner, method, call } of found) {
      const { type, workers, batchSize, batched } = meta;
      const queueName = `event.${type === '*' ? 'all' : type}.${owner}.${method}`;
      // Subscribers take seconds at most; a job held by a killed worker is retried once it expires,
      // so its events must not wait pg-boss's default 15 minutes for that.
      const options = {
        workers,
        batchSize,
        queue: { retryLimit: 10, retryDelay: 5, retryBackoff: true, expireInSeconds: EVENT_JOB_EXPIRE_SECONDS },
      };
      if (batched) {
        this.batchedQueues.add(queueName);
        this.jobs.add(
          queueName,
          options,
          (data) => call(eventsOf(data)),
          (jobs) => call(jobs.flatMap((j) => eventsOf(j.data))),
        );
      } else {
        this.jobs.add(queueName, options, (data) => call(data as DomainEvent));
      }
      this.byType.set(type, [...(this.byType.get(type) ?? []), queueName]);
    }
  }

  /** Whether the queue's jobs carry many events each. */
  isBatched(queueName: string): boolean {
    return this.batchedQueues.has(queueName);
  }

  /** Subscribers of this type, plus those of every type (`@OnDomainEvent('*')`). */
  queuesFor(type: string): string[] {
    return [...(this.byType.get(type) ?? []), ...(type === '*' ? [] : (this.byType.get('*') ?? []))];
  }
}

/** A batched subscriber's job: { events } (one job per relayed batch), or one event (older jobs). */
export interface DomainEventBatch {
  events: DomainEvent[];
}

function eventsOf(data: unknown): DomainEvent[] {
  const batch = data as Partial<DomainEventBatch>;
  return Array.isArray(batch?.events) ? batch.events : [data as DomainEvent];
}
