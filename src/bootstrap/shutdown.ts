import type { INestApplicationContext } from '@nestjs/common';
import type { Server } from 'node:http';
import { AppConfig } from '../../libs/config';
import { LifecycleService } from '../../libs/core';
import { ReadinessService } from '../../libs/health';
import { bootLogger } from './boot-logger';

interface ShutdownPlan {
  app: INestApplicationContext;
  servers: Server[];
  config: AppConfig;
  stopDatabase: () => Promise<void>;
}

function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    // Stops accepting; in-flight requests finish; idle keep-alive sockets are closed.
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * SIGTERM/SIGINT: readiness turns 503 at once, the servers keep serving for SHUTDOWN_DELAY_MS
 * (so load balancers stop sending), then stop accepting and drain in-flight requests; running
 * jobs get a bounded graceful stop; pools close; the embedded database stops; exit 0.
 */
export function installShutdown(plan: ShutdownPlan): void {
  let started = false;
  const run = async (signal: string) => {
    if (started) {
      bootLogger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    started = true;
    const log = bootLogger.child({ component: 'shutdown', signal });
    plan.app.get(LifecycleService).beginShutdown();
    plan.app.get(ReadinessService).invalidate();
    const delay = plan.config.get('SHUTDOWN_DELAY_MS');
    log.info({ delay_ms: delay }, 'shutting down: readiness is now 503');
    await new Promise((r) => setTimeout(r, delay));
    const timeout = plan.config.get('SHUTDOWN_TIMEOUT_MS');
    await Promise.all(plan.servers.map((s) => closeServer(s, timeout)));
    log.info('HTTP drained; stopping jobs and closing pools');
    try {
      await plan.app.close();
    } catch (err) {
      log.error({ err }, 'error while closing the application');
    }
    await plan.stopDatabase().catch((err) => log.error({ err }, 'error while stopping the embedded database'));
    log.info('bye');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void run(signal));
}
