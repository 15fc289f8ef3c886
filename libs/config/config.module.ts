import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { APP_ROLE, AppRole } from './app-role';

/** Provides the already validated AppConfig and the process role to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, role: AppRole): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: APP_ROLE, useValue: role },
      ],
      exports: [AppConfig, APP_ROLE],
    };
  }
}
