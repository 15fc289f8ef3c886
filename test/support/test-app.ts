import type { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { generateKeyringEntry } from '../../libs/config';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { JobRegistry } from '../../libs/queue';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { createHttpApp, finishHttpApp, HTTP_APP_OPTIONS } from '../../src/bootstrap/http-app';
import { createWorkerApp } from '../../src/bootstrap/worker-app';
import { createTestDatabase, TestDatabase } from './test-cluster';

/** Settings that make tests quick and quiet; each test may override any of them. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  // Generated per test run; never a fixed value in the repository.
  JWT_SECRET: randomBytes(32).toString('base64url'),
  DATA_ENCRYPTION_KEYS: generateKeyringEntry('test'),
  LOG_LEVEL: 'silent',
  QUEUE_POLL_INTERVAL_SECONDS: '0.5',
  EVENTS_RELAY_INTERVAL_MS: '200',
  SHUTDOWN_TIMEOUT_MS: '5000',
  DATABASE_POOL_SIZE: '5',
  // In-process apps share the jest worker, whose RSS says nothing about a real worker's; the
  // memory gate has its own tests with a low limit.
  PAYROLL_MAX_RSS_MB: '65536',
};

export function testConfig(db: Pick<TestDatabase, 'runtime' | 'admin' | 'system'>, env: Record<string, string> = {}) {
  return AppConfig.load({
    ...TEST_ENV,
    DATABASE_URL: db.runtime,
    DATABASE_ADMIN_URL: db.admin,
    DATABASE_SYSTEM_URL: db.system,
    ...env,
  });
}

export interface TestHttpApp {
  app: NestExpressApplication;
  config: AppConfig;
  http: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

export interface ProviderOverride {
  provide: unknown;
  useValue: unknown;
}

export interface TestAppOptions {
  /** Replace providers (e.g. to inject a fault), as Test.overrideProvider does. */
  overrides?: ProviderOverride[];
  db: Pick<TestDatabase, 'runtime' | 'admin' | 'system'>;
  /** Wait for the database and queues before returning (default true). */
  waitUntilReady?: boolean;
  env?: Record<string, string>;
  imports?: (Type | DynamicModule)[];
}

/** The api (or all) role in-process on a test database, with a supertest client. */
export async function createTestHttpApp(options: TestAppOptions & { role?: 'api' | 'all' }): Promise<TestHttpApp> {
  const config = testConfig(options.db, options.env);
  const role = options.role ?? 'all';
  let app: NestExpressApplication;
  if (options.overrides?.length) {
    let builder = Test.createTestingModule({ imports: [AppModule.forRole(config, role, options.imports)] });
    for (const o of options.overrides) builder = builder.overrideProvider(o.provide).useValue(o.useValue);
    const moduleRef = await builder.compile();
    app = await finishHttpApp(moduleRef.createNestApplication<NestExpressApplication>(HTTP_APP_OPTIONS), config);
  } else {
    app = await createHttpApp(config, role, options.imports);
  }
  if (options.waitUntilReady !== false) await untilReady(app);
  const server = app.getHttpServer();
  return {
    app,
    config,
    http: () => request(server),
    close: () => app.close(),
  };
}

/** The worker role in-process (no probe listener). */
export async function createTestWorker(options: TestAppOptions): Promise<INestApplicationContext> {
  const app = await createWorkerApp(testConfig(options.db, options.env), options.imports);
  if (options.waitUntilReady !== false) await untilReady(app);
  return app;
}

async function untilReady(app: INestApplicationContext): Promise<void> {
  await app.get(DatabaseService).whenConnected();
  await app.get(JobRegistry).whenAttached();
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { createTestDatabase };
export type { TestDatabase };
