import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventLoopLag } from '../observability';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config';
import { DatabaseService, pendingMigrations } from '../database';
import { LifecycleService } from '../core';
import { ReadinessRegistry } from '../core';
import { withTimeout } from '../resilience';

/** Readiness checks every process has: database, migrations, shutdown state. */
@Injectable()
export class CoreIndicators implements OnModuleInit {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ReadinessRegistry,
    private readonly db: DatabaseService,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register('shutdown', () => this.shutdown());
    this.registry.register('database', () => this.database());
    this.registry.register('migrations', () => this.migrations());
  }

  async shutdown() {
    const check = this.indicators.check('shutdown');
    return this.lifecycle.shuttingDown ? check.down({ message: 'shutting down' }) : check.up();
  }

  async database() {
    const check = this.indicators.check('database');
    if (!this.db.connected) return check.down({ message: 'not connected yet (retrying with backoff)' });
    const started = performance.now();
    try {
      await withTimeout(this.db.app.query('select 1'), this.config.get('HEALTH_DB_TIMEOUT_MS'), 'database');
      return check.up({ latency_ms: Math.round(performance.now() - started) });
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }

  async migrations() {
    const check = this.indicators.check('migrations');
    if (!this.db.connected) return check.down({ message: 'database not connected' });
    try {
      const pending = await withTimeout(
        pendingMigrations(this.db.app),
        this.config.get('HEALTH_DB_TIMEOUT_MS'),
        'migration check',
      );
      return pending.length ? check.down({ message: 'migrations pending: run `task migrate`', pending }) : check.up();
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}

/** Liveness: the event loop is turning; measured, never touches the database. */
@Injectable()
export class EventLoopIndicator implements OnModuleDestroy {
  private readonly lag = new EventLoopLag(20).start();
  private readonly maxDelayMs = 2000;

  constructor(private readonly indicators: HealthIndicatorService) {}

  onModuleDestroy(): void {
    this.lag.stop();
  }

  /** Judges the lag since the previous check (p99 over more than 2 s is down). */
  check() {
    const { p99Ms, maxMs } = this.lag.take();
    const data = { event_loop_delay_p99_ms: Math.round(p99Ms), event_loop_delay_max_ms: Math.round(maxMs) };
    const check = this.indicators.check('event_loop');
    return p99Ms > this.maxDelayMs ? check.down(data) : check.up(data);
  }
}
