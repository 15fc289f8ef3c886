export * from './api-key-format';
export * from './api-key.entity';
export * from './auth.module';
export * from './credential-resolver.service';
export * from './decorators';
export * from './org-directory.service';
export * from './principal';
export * from './scopes';
