export * from './health.module';
export * from './readiness.service';
export * from './worker-heartbeat.entity';
export * from './worker-heartbeat.service';
export * from './critical-incidents';
