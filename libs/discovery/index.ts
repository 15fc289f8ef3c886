export * from './decorated-methods';
