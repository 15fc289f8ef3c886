import { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppLogger } from '../../libs/observability';
import { AppConfig, AppRole } from '../../libs/config';
import { configureHttpApp } from '../../libs/http';
import { AppModule } from '../app.module';

export const HTTP_APP_OPTIONS: NestApplicationOptions = {
  bufferLogs: true,
  rawBody: true,
  bodyParser: false,
  abortOnError: false,
};

/** Logger, Express settings and init: shared by the real bootstrap and the test harness. */
export async function finishHttpApp(app: NestExpressApplication, config: AppConfig): Promise<NestExpressApplication> {
  app.useLogger(app.get(AppLogger));
  configureHttpApp(app, config);
  await app.init();
  return app;
}

/** Builds (without listening) the HTTP application of the api/all roles. */
export async function createHttpApp(
  config: AppConfig,
  role: Extract<AppRole, 'api' | 'all'>,
  extra: (Type | DynamicModule)[] = [],
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRole(config, role, extra),
    HTTP_APP_OPTIONS,
  );
  return finishHttpApp(app, config);
}
