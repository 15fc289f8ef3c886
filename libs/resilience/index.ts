export * from './backoff';
export * from './circuit-breaker';
export * from './with-timeout';
