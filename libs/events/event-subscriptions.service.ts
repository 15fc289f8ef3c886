import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { JobRegistry } from '../queue';
import { DomainEvent, DomainEventSubscription, ON_DOMAIN_EVENT } from './domain-event';

/** Finds `@OnDomainEvent` methods and gives each its own queue. */
@Injectable()
export class EventSubscriptions implements OnModuleInit {
  private readonly byType = new Map<string, string[]>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly jobs: JobRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = instance[method] as (event: DomainEvent) => Promise<unknown>;
        const subscription = this.reflector.get<DomainEventSubscription | undefined>(ON_DOMAIN_EVENT, fn);
        if (!subscription) continue;
        const { type, workers, batchSize } = subscription;
        const queueName = `event.${type === '*' ? 'all' : type}.${instance.constructor.name}.${method}`;
        this.jobs.add(
          queueName,
          { workers, batchSize, queue: { retryLimit: 10, retryDelay: 5, retryBackoff: true } },
          (data) => fn.call(instance, data as DomainEvent),
        );
        this.byType.set(type, [...(this.byType.get(type) ?? []), queueName]);
      }
    }
  }

  /** Subscribers of this type, plus those of every type (`@OnDomainEvent('*')`). */
  queuesFor(type: string): string[] {
    return [...(this.byType.get(type) ?? []), ...(type === '*' ? [] : (this.byType.get('*') ?? []))];
  }
}
