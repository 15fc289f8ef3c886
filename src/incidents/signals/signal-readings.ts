import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../libs/config';
import { DatabaseService } from '../../../libs/database';
import { QUEUE_SCHEMA } from '../../../libs/queue';
import { PayrollSignals } from '../../payroll/payroll.module';
import type { OrgValue } from '../../payroll/payroll.module';
import { SessionSignals } from '../../sessions/sessions.module';
import { WebhookSignals } from '../../webhooks/webhooks.module';
import { SIGNALS } from './catalog';
import type { Reading, SignalName } from './catalog';
import { COUNTS } from './process-sampler';

interface SampleAggregate {
  signal: string;
  resource: string;
  value: number | null;
  unknown_reason: string | null;
  measured_at: Date;
}

/**
 * The current value of every signal, read from the processes' samples (process and host
 * signals, the summed counters) and measured now across the cluster (workers, queues, and
 * each feature's own signals through its module). What cannot be measured is an unknown
 * reading with its reason.
 */
@Injectable()
export class SignalReadings {
  constructor(
    private readonly db: DatabaseService,
    private readonly payroll: PayrollSignals,
    private readonly webhooks: WebhookSignals,
    private readonly sessions: SessionSignals,
    private readonly config: AppConfig,
  ) {}

  /** Every reading now (workers_alive only, when `only` says so). */
  async current(only?: SignalName[]): Promise<Reading[]> {
    const now = new Date();
    const wanted = (s: SignalName) => !only || only.includes(s);
    const parts = await Promise.all([
      wanted('workers_alive') ? this.workersAlive(now) : [],
      only ? [] : this.processAndHostReadings(),
      only ? [] : this.summed(now),
      only ? [] : this.queueAges(now),
      only ? [] : this.featureReadings(now),
    ]);
    return parts.flat();
  }

  /** Latest sample per process (alive) and per host, within three sample intervals. */
  private async processAndHostReadings(): Promise<Reading[]> {
    const window = this.config.get('HEALTH_SAMPLE_SECONDS') * 3;
    const alive = this.aliveSeconds();
    const rows = (await this.db.system.query(
      `SELECT DISTINCT ON (s.signal, s.resource) s.signal, s.resource, s.value, s.unknown_reason, s.measured_at, s.scope
       FROM health_samples s
       WHERE s.scope IN ('process', 'host') AND s.measured_at > now() - make_interval(secs => $1)
         AND (s.scope = 'host' OR EXISTS (SELECT 1 FROM worker_heartbeats h
               WHERE h.id = s.process_id AND h.last_seen_at > now() - make_interval(secs => $2)))
       ORDER BY s.signal, s.resource, s.measured_at DESC`,
      [window, alive],
    )) as (SampleAggregate & { scope: 'process' | 'host' })[];
    return rows
      .filter((r) => r.signal in SIGNALS)
      .map((r) => ({
        signal: r.signal as SignalName,
        scope: r.scope,
        resource: r.resource,
        value: r.value === null ? null : Number(r.value),
        ...(r.unknown_reason ? { unknownReason: r.unknown_reason } : {}),
        measuredAt: r.measured_at,
      }));
  }

  /** The ratios summed from every process's counters over their windows. */
  private async summed(now: Date): Promise<Reading[]> {
    const rows = (await this.db.system.query(
      `SELECT signal, resource, sum(value)::float8 AS value FROM health_samples
       WHERE (signal IN ($1, $2) AND measured_at > now() - interval '5 minutes')
          OR (signal IN ($3, $4, $5) AND measured_at > now() - interval '15 minutes')
       GROUP BY signal, resource`,
      [COUNTS.httpResponses, COUNTS.http5xx, COUNTS.uploads, COUNTS.uploadsRejected, COUNTS.opsAlertFailures],
    )) as { signal: string; resource: string; value: number }[];
    const sum = (signal: string, resource = '') =>
      Number(rows.find((r) => r.signal === signal && r.resource === resource)?.value ?? 0);
    const readings: Reading[] = [];
    const responses = sum(COUNTS.httpResponses);
    readings.push(
      responses > 0
        ? {
            signal: 'http_5xx_ratio',
            scope: 'cluster',
            resource: '',
            value: sum(COUNTS.http5xx) / responses,
            measuredAt: now,
          }
        : {
            signal: 'http_5xx_ratio',
            scope: 'cluster',
            resource: '',
            value: null,
            unknownReason: 'no HTTP response in the last 5 minutes',
            measuredAt: now,
          },
    );
    for (const org of new Set(rows.filter((r) => r.signal === COUNTS.uploads).map((r) => r.resource))) {
      const total = sum(COUNTS.uploads, org);
      if (total > 0) {
        const value = sum(COUNTS.uploadsRejected, org) / total;
        readings.push({
          signal: 'ticket_upload_failure_ratio',
          scope: 'org',
          resource: org,
          orgId: org,
          value,
          measuredAt: now,
        });
      }
    }
    readings.push({
      signal: 'ops_alert_failures',
      scope: 'cluster',
      resource: '',
      value: sum(COUNTS.opsAlertFailures),
      measuredAt: now,
    });
    return readings;
  }

  /** Worker processes (roles worker and all) whose heartbeat is fresh. */
  private async workersAlive(now: Date): Promise<Reading[]> {
    const [row] = (await this.db.system.query(
      `SELECT count(*)::int AS n FROM worker_heartbeats
       WHERE role IN ('worker', 'all') AND last_seen_at > now() - make_interval(secs => $1)`,
      [this.aliveSeconds()],
    )) as { n: number }[];
    return [{ signal: 'workers_alive', scope: 'cluster', resource: '', value: row.n, measuredAt: now }];
  }

  /** Age of the oldest job due and not started, per queue with one (pg-boss 10's job table). */
  private async queueAges(now: Date): Promise<Reading[]> {
    const rows = (await this.db.system.query(
      `SELECT name, extract(epoch FROM now() - min(start_after))::float8 AS age FROM ${QUEUE_SCHEMA}.job
       WHERE state IN ('created', 'retry') AND start_after <= now() GROUP BY name`,
    )) as { name: string; age: number }[];
    return rows.map((r) => ({
      signal: 'queue_oldest_waiting_seconds' as const,
      scope: 'cluster' as const,
      resource: r.name,
      value: Math.max(0, Number(r.age)),
      measuredAt: now,
    }));
  }

  private async featureReadings(now: Date): Promise<Reading[]> {
    const perOrg = async (signal: SignalName, values: Promise<OrgValue[]>): Promise<Reading[]> =>
      (await values).map((v) => ({
        signal,
        scope: 'org' as const,
        resource: v.orgId,
        orgId: v.orgId,
        value: v.value,
        measuredAt: now,
      }));
    const parts = await Promise.all([
      perOrg('webhook_failure_ratio', this.webhooks.failureRatio()),
      perOrg('webhook_open_breakers', this.webhooks.openBreakers()),
      perOrg('payroll_failed_runs', this.payroll.failedRunsLastHour()),
      perOrg('payroll_oldest_queued_seconds', this.payroll.oldestQueuedSeconds()),
      perOrg('calls_waiting_without_agents', this.sessions.callsWaitingWithoutAgents()),
    ]);
    return parts.flat();
  }

  /** A process whose heartbeat is older than three intervals is taken for dead. */
  private aliveSeconds(): number {
    return (this.config.get('WORKER_HEARTBEAT_INTERVAL_MS') * 3) / 1000;
  }
}
