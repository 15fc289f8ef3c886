export * from './audit-chain';
export * from './audit-event.entity';
export * from './audit-log.module';
export * from './audit.service';
