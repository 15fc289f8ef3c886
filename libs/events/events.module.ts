import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventPublisher } from './event-publisher.service';
import { EventRelay } from './event-relay.service';
import { EventSubscriptions } from './event-subscriptions.service';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [EventPublisher, EventSubscriptions, EventRelay],
  exports: [EventPublisher],
})
export class EventsModule {}
