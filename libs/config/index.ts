export * from './app-config';
export * from './app-role';
export * from './config.module';
export * from './app-version';
export * from './keyring';
export { isChatWebhookUrl } from './env-parsers';
export * from './dev-secrets-file';
