export * from './keyring';
export * from './secret-box';
export * from './crypto.module';
