import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { parseKeyring } from '../config';
import { SecretBox } from './secret-box';

/** One SecretBox for the whole process, built from DATA_ENCRYPTION_KEYS at startup. */
@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [AppConfig],
      // A missing value fails here, at boot, not at first use.
      useFactory: (config: AppConfig) => new SecretBox(parseKeyring(config.get('DATA_ENCRYPTION_KEYS') ?? '')),
    },
  ],
  exports: [SecretBox],
})
export class CryptoModule {}
