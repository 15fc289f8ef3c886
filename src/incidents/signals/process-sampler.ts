import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { statfs } from 'node:fs/promises';
import { hostname, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { APP_ROLE, AppConfig } from '../../../libs/config';
import type { AppRole } from '../../../libs/config';
import { LifecycleService } from '../../../libs/core';
import { DatabaseService } from '../../../libs/database';
import { cgroupMemoryLimit, EventLoopLag, MetricsService } from '../../../libs/observability';
import { withTimeout } from '../../../libs/resilience';
import { UploadOutcomes } from '../../payroll/payroll.module';
import { OpsAlertFailures } from './ops-alert-failures';

/** One row for health_samples. */
export interface SampleRow {
  signal: string;
  scope: 'process' | 'host' | 'cluster' | 'org';
  resource: string;
  value: number | null;
  unknown_reason: string | null;
}

/** Counters are written as deltas under these names and summed over their window by the detector. */
export const COUNTS = {
  httpResponses: 'count.http_responses',
  http5xx: 'count.http_5xx',
  uploads: 'count.ticket_uploads',
  uploadsRejected: 'count.ticket_uploads_rejected',
  opsAlertFailures: 'count.ops_alert_failures',
} as const;

const unknown = (signal: string, scope: SampleRow['scope'], resource: string, reason: string): SampleRow => ({
  signal,
  scope,
  resource,
  value: null,
  unknown_reason: reason,
});

/**
 * What this process measures of itself, every HEALTH_SAMPLE_SECONDS, written to health_samples:
 * memory against its limit, event-loop delay, the disk of its data directory, a database round
 * trip and the pool's waiting clients, and the counters the cluster signals sum (HTTP
 * responses and 5xx, ticket uploads per org, failed operator alerts). A signal that cannot be
 * measured is written as unknown with the reason, never as a default value.
 */
@Injectable()
export class ProcessSampler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('HealthSampler');
  private readonly loopDelay = new EventLoopLag(10);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private http?: { total: number; errors: number };

  constructor(
    private readonly db: DatabaseService,
    private readonly lifecycle: LifecycleService,
    private readonly metrics: MetricsService,
    private readonly uploads: UploadOutcomes,
    private readonly alertFailures: OpsAlertFailures,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  onApplicationBootstrap(): void {
    if (this.role === 'task') return;
    this.loopDelay.start();
    const tick = () => {
      if (this.running || this.lifecycle.shuttingDown) return;
      this.running = this.sample()
        .then(() => undefined)
        .catch((err: Error) => this.logger.warn(`health sample not written: ${err.message}`))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, this.config.get('HEALTH_SAMPLE_SECONDS') * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay.stop();
    await this.running;
  }

  /** Measures now and writes the rows. */
  async sample(): Promise<SampleRow[]> {
    const rows = await this.measure();
    if (!this.db.connected) return rows;
    await this.db.system.query(
      `INSERT INTO health_samples (signal, scope, resource, process_id, role, host, value, unknown_reason)
       SELECT x.signal, x.scope, x.resource, $2, $3, $4, x.value, x.unknown_reason
       FROM jsonb_to_recordset($1::jsonb) AS x(signal text, scope text, resource text, value float8, unknown_reason text)`,
      [JSON.stringify(rows), this.lifecycle.instanceId, this.role, hostname()],
    );
    return rows;
  }

  async measure(): Promise<SampleRow[]> {
    const id = this.lifecycle.instanceId;
    const rows: SampleRow[] = [
      await this.memory(id),
      this.eventLoop(id),
      await this.disk(),
      ...(await this.database(id)),
    ];
    rows.push(...(await this.httpCounts()));
    for (const [orgId, t] of this.uploads.drain()) {
      rows.push({
        signal: COUNTS.uploads,
        scope: 'org',
        resource: orgId,
        value: t.accepted + t.rejected,
        unknown_reason: null,
      });
      rows.push({
        signal: COUNTS.uploadsRejected,
        scope: 'org',
        resource: orgId,
        value: t.rejected,
        unknown_reason: null,
      });
    }
    const failed = this.alertFailures.drain();
    if (failed)
      rows.push({
        signal: COUNTS.opsAlertFailures,
        scope: 'cluster',
        resource: '',
        value: failed,
        unknown_reason: null,
      });
    return rows;
  }

  private async memory(id: string): Promise<SampleRow> {
    const limit = (await cgroupMemoryLimit()) ?? totalmem();
    const value = (process.memoryUsage().rss / limit) * 100;
    return { signal: 'memory_rss_percent', scope: 'process', resource: id, value, unknown_reason: null };
  }

  /** p99 of the event-loop delay since the previous sample. */
  private eventLoop(id: string): SampleRow {
    const w = this.loopDelay.take();
    return w.count > 0
      ? { signal: 'event_loop_lag_ms', scope: 'process', resource: id, value: w.p99Ms, unknown_reason: null }
      : unknown('event_loop_lag_ms', 'process', id, 'no event-loop delay recorded in the window yet');
  }

  private async disk(): Promise<SampleRow> {
    const path = resolve(this.config.get('HEALTH_DISK_PATH') ?? this.config.get('DATA_DIR'));
    const host = hostname();
    try {
      const fs = await statfs(path);
      if (!fs.blocks) return unknown('disk_used_percent', 'host', host, `${path}: the file system reports no blocks`);
      return {
        signal: 'disk_used_percent',
        scope: 'host',
        resource: host,
        value: (1 - fs.bavail / fs.blocks) * 100,
        unknown_reason: null,
      };
    } catch (err) {
      return unknown('disk_used_percent', 'host', host, `${path}: ${(err as Error).message}`);
    }
  }

  private async database(id: string): Promise<SampleRow[]> {
    if (!this.db.connected) {
      return [
        unknown('db_latency_ms', 'process', id, 'the database is not connected'),
        unknown('db_pool_waiting', 'process', id, 'the database is not connected'),
      ];
    }
    const pool = (this.db.app.driver as unknown as { master?: { waitingCount?: number } }).master;
    const waiting: SampleRow =
      typeof pool?.waitingCount === 'number'
        ? { signal: 'db_pool_waiting', scope: 'process', resource: id, value: pool.waitingCount, unknown_reason: null }
        : unknown('db_pool_waiting', 'process', id, 'the pool does not report its waiting clients');
    const started = process.hrtime.bigint();
    try {
      await withTimeout(this.db.app.query('SELECT 1'), this.config.get('HEALTH_DB_TIMEOUT_MS'), 'the database');
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return [{ signal: 'db_latency_ms', scope: 'process', resource: id, value: ms, unknown_reason: null }, waiting];
    } catch (err) {
      return [unknown('db_latency_ms', 'process', id, (err as Error).message), waiting];
    }
  }

  /** HTTP responses and 5xx answered by this process since the previous sample (api roles). */
  private async httpCounts(): Promise<SampleRow[]> {
    if (this.role !== 'api' && this.role !== 'all') return [];
    let total = 0;
    let errors = 0;
    for (const v of (await this.metrics.httpRequestDuration.get()).values) {
      if (v.metricName !== 'http_request_duration_seconds_count') continue;
      total += v.value;
      if (String(v.labels.status_code).startsWith('5')) errors += v.value;
    }
    const previous = this.http ?? { total: 0, errors: 0 };
    this.http = { total, errors };
    return [
      {
        signal: COUNTS.httpResponses,
        scope: 'cluster',
        resource: '',
        value: total - previous.total,
        unknown_reason: null,
      },
      { signal: COUNTS.http5xx, scope: 'cluster', resource: '', value: errors - previous.errors, unknown_reason: null },
    ];
  }
}
