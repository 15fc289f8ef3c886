export * from './logging';
export * from './metrics.service';
export * from './observability.module';
export * from './request-observer';
export * from './log-output';
export * from './app-logger';
export * from './event-loop-lag';
export * from './host-resources';
