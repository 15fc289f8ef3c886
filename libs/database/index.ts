export * from './data-source-options';
export * from './database-roles';
export * from './database.module';
export * from './database.service';
export * from './embedded-database';
export * from './embedded-postgres';
export * from './migrations';
export * from './tenant-context';
