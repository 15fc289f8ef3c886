export * from './backoff';
export * from './circuit-breaker';
