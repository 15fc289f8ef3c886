export * from './domain-event';
export * from './domain-event.entity';
export * from './event-publisher.service';
export * from './event-relay.service';
export * from './events.module';
