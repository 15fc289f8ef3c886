export * from './cluster-cron.decorator';
export * from './cluster-cron.service';
export * from './job-handler.decorator';
export * from './job-registry.service';
export * from './queue-schema';
export * from './queue.module';
export * from './queue.service';
export * from './transaction-executor';
