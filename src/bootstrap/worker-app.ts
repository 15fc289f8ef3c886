import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, Server } from 'node:http';
import { AppLogger, operatorAccess } from '../../libs/observability';
import { AppConfig } from '../../libs/config';
import { readinessBody, ReadinessService } from '../../libs/health';
import { AppModule } from '../app.module';

/** The worker role: no HTTP API, only the queue consumers, cron and the probe listener. */
export async function createWorkerApp(
  config: AppConfig,
  extra: (Type | DynamicModule)[] = [],
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRole(config, 'worker', extra), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(AppLogger));
  await app.init();
  return app;
}

/**
 * Serves `/health/live` and `/health/ready` on HEALTH_PORT and nothing else, for Kubernetes
 * probes of the worker. Liveness never touches the database; readiness shares the cached checks.
 */
export function createProbeServer(app: INestApplicationContext): Server {
  const readiness = app.get(ReadinessService);
  const config = app.get(AppConfig);
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { status: 'error', message: 'GET only' });
    if (path === '/health/live')
      return send(200, { status: 'ok', info: { process: { status: 'up', pid: process.pid } } });
    if (path === '/health/ready') {
      readiness
        .check()
        .then(({ ready, result }) =>
          send(ready ? 200 : 503, readinessBody(result, operatorAccess(config, req.headers.authorization))),
        )
        .catch((err: Error) => send(503, { status: 'error', message: err.message }));
      return;
    }
    send(404, { status: 'error', message: 'only /health/live and /health/ready are served here' });
  });
}
