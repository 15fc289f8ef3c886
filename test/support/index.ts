export * from './spawn-app';
export * from './test-app';
export * from './test-cluster';
export * from './org-isolation';
export * from './service-context';
export * from './pgbouncer';
