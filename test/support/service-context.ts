import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DatabaseService } from '../../libs/database';
import { JobRegistry } from '../../libs/queue';
import { AppModule } from '../../src/app.module';
import { testConfig } from './test-app';
import type { TestDatabase } from './test-cluster';

/**
 * The middle tier of the tests: the application's services on a real database, without HTTP
 * and without anything running in the background (the `api` role consumes no queue and runs
 * no cron), so a test calls a service and sees exactly what that call did.
 */
export async function createServiceContext(options: {
  db: Pick<TestDatabase, 'runtime' | 'admin' | 'system'>;
  env?: Record<string, string>;
}): Promise<INestApplicationContext> {
  const config = testConfig(options.db, options.env);
  const app = await NestFactory.createApplicationContext(AppModule.forRole(config, 'api'), {
    logger: false,
    abortOnError: false,
  });
  await app.get(DatabaseService).whenConnected();
  await app.get(JobRegistry).whenAttached();
  return app;
}
