export * from './audit-chain';
export * from './audit-event.entity';
export * from './audit.module';
export * from './audit.service';
