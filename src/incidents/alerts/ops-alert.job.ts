import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, isChatWebhookUrl } from '../../../libs/config';
import { DatabaseService } from '../../../libs/database';
import { JobHandler, QueueService } from '../../../libs/queue';
import { CircuitBreaker } from '../../../libs/resilience';
import type { BreakerSnapshot } from '../../../libs/resilience';
import { nextAttempt, postJson, slackText, webhookRequest } from '../../webhooks/webhooks.module';
import { OpsAlertFailures } from '../signals/ops-alert-failures';

export const OPS_ALERT_QUEUE = 'incidents.ops-alert';

/** One alert to one operator channel (its index in OPS_ALERT_WEBHOOK_URLS). */
export interface OpsAlertJob {
  event_id: string;
  type: string;
  channel: number;
  /** 1-based attempt this job makes. */
  attempt: number;
  created_at: string;
  incident: {
    id: string;
    title: string;
    severity: string;
    category: string;
    status: string;
    signal: string | null;
    value: number | null;
    orgs_affected: number;
    message: string;
  };
}

const hashOf = (url: string) => createHash('sha256').update(url).digest('hex');

/**
 * Sends operator alerts: a chat message to Slack or Discord incoming webhooks, a signed
 * Standard Webhooks event to any other URL. Failures are retried on WEBHOOK_RETRY_SCHEDULE
 * (Retry-After honoured) behind a breaker per channel shared by all workers
 * (WEBHOOK_BREAKER_FAILURES, WEBHOOK_BREAKER_COOLDOWN_SECONDS); each failure counts toward the
 * `ops_alert_failures` signal.
 */
@Injectable()
export class OpsAlertJobHandler {
  private readonly logger = new Logger('OpsAlerts');

  constructor(
    private readonly db: DatabaseService,
    private readonly queue: QueueService,
    private readonly failures: OpsAlertFailures,
    private readonly config: AppConfig,
  ) {}

  @JobHandler(OPS_ALERT_QUEUE, { queue: { retryLimit: 0 }, workers: 1 })
  async handle(job: OpsAlertJob): Promise<{ sent: boolean; status?: number; retry_in_ms?: number }> {
    const url = this.config.get('OPS_ALERT_WEBHOOK_URLS')[job.channel];
    if (!url) return { sent: false };
    const key = hashOf(url);
    const permit = await this.withBreaker(key, (b) => b.tryAcquire());
    if (!permit.result) {
      // Waiting for the breaker is not an attempt.
      await this.queue.send(OPS_ALERT_QUEUE, job, { startAfter: Math.ceil(permit.retryInMs / 1000) + 1 });
      return { sent: false, retry_in_ms: permit.retryInMs };
    }
    const { body, headers } = this.request(url, job);
    let status: number | undefined;
    let retryAfter: string | string[] | undefined;
    let error: string | undefined;
    try {
      const res = await postJson(url, body, headers, {
        timeoutMs: this.config.get('WEBHOOK_TIMEOUT_MS'),
        // Operators name these URLs in the deployment's own configuration: internal targets are theirs to choose.
        allowLoopback: true,
        allowHttp: true,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
    } catch (err) {
      error = (err as Error).message;
    }
    const ok = status !== undefined && status >= 200 && status < 300;
    await this.withBreaker(key, (b) => (ok ? b.recordSuccess() : b.recordFailure()));
    if (ok) return { sent: true, status };

    this.failures.record();
    const step = nextAttempt(
      { attempt: job.attempt, statusCode: status ?? null, retryAfter },
      {
        schedule: this.config.get('WEBHOOK_RETRY_SCHEDULE'),
        jitter: this.config.get('WEBHOOK_RETRY_JITTER'),
        retryAfterCapSeconds: this.config.get('WEBHOOK_RETRY_AFTER_CAP_SECONDS'),
      },
    );
    this.logger.warn(
      { channel: job.channel, incident_id: job.incident.id, attempt: job.attempt, status, error },
      step.kind === 'retry' ? 'operator alert failed; will retry' : 'operator alert failed; giving up',
    );
    if (step.kind === 'retry') {
      await this.queue.send(
        OPS_ALERT_QUEUE,
        { ...job, attempt: job.attempt + 1 },
        { startAfter: Math.max(1, Math.ceil(step.delayMs / 1000)) },
      );
    }
    return { sent: false, status };
  }

  private request(url: string, job: OpsAlertJob): { body: string; headers: Record<string, string> } {
    const i = job.incident;
    const data = {
      incident_id: i.id,
      title: i.title,
      severity: i.severity,
      category: i.category,
      status: i.status,
      signal: i.signal,
      value: i.value,
      orgs_affected: i.orgs_affected,
      message: i.message,
    };
    if (isChatWebhookUrl(url)) {
      const text = `[${i.severity}] ${slackText(job.type, { title: i.title, status: i.status, orgs_affected: i.orgs_affected })}`;
      const headers = { 'content-type': 'application/json', 'user-agent': 'CalmOps-Alerts/1' };
      const discord = new URL(url).hostname !== 'hooks.slack.com';
      return { body: JSON.stringify(discord ? { content: text } : { text }), headers };
    }
    const secret = this.config.get('OPS_ALERT_WEBHOOK_SECRET');
    return webhookRequest(
      { id: job.event_id, type: job.type, created_at: job.created_at, org_id: null, data },
      'standard',
      secret ? [secret] : [],
      Date.now(),
    );
  }

  /** Reads the channel's breaker under a row lock, lets `fn` act on it, writes it back. */
  private async withBreaker<T>(key: string, fn: (b: CircuitBreaker) => T): Promise<{ result: T; retryInMs: number }> {
    return this.db.system.transaction(async (m) => {
      await m.query(`INSERT INTO ops_alert_channels (url_hash) VALUES ($1) ON CONFLICT DO NOTHING`, [key]);
      const [row] = (await m.query(
        `SELECT breaker, extract(epoch FROM now() - updated_at) * 1000 AS idle_ms FROM ops_alert_channels
         WHERE url_hash = $1 FOR UPDATE`,
        [key],
      )) as { breaker: Partial<BreakerSnapshot>; idle_ms: number }[];
      // A probe whose worker died never reports back: past twice the timeout it no longer holds the channel.
      if (row.breaker.probeInFlight && Number(row.idle_ms) > 2 * this.config.get('WEBHOOK_TIMEOUT_MS')) {
        row.breaker.probeInFlight = false;
      }
      const breaker = new CircuitBreaker(
        {
          failureThreshold: this.config.get('WEBHOOK_BREAKER_FAILURES'),
          cooldownMs: this.config.get('WEBHOOK_BREAKER_COOLDOWN_SECONDS') * 1000,
        },
        row.breaker,
      );
      const result = fn(breaker);
      await m.query(`UPDATE ops_alert_channels SET breaker = $2, updated_at = now() WHERE url_hash = $1`, [
        key,
        JSON.stringify(breaker.snapshot),
      ]);
      return { result, retryInMs: breaker.retryInMs };
    });
  }
}
