import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { AppConfig } from '../../libs/config';
import { returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { MetricsService } from '../../libs/observability';
import { nextAttempt } from './delivery-schedule';
import { logAttempt } from './delivery-log';
import type { AttemptRecord } from './delivery-log';
import { EndpointBreaker } from './endpoint-breaker';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';

/** An attempt that was sent, as the claim handed it out. */
export interface SentAttempt {
  deliveryId: string;
  attempt: number;
  /** The job that ran it (for the logs). */
  jobId?: string;
}

/** What came back from one POST. */
export interface Outcome extends AttemptRecord {
  retryAfter: string | string[] | undefined;
  /** null for a 2xx. */
  error: string | null;
}

/** The transaction's clock: breaker and staleness decisions compare database times only. */
export async function dbNow(m: EntityManager): Promise<number> {
  const [{ now }] = (await m.query(`SELECT now() AS now`)) as { now: Date }[];
  return now.getTime();
}

/** The counter of delivery outcomes, shared by the claim and the outcome side. */
export function deliveryResults(metrics: MetricsService): Counter<'result'> {
  return metrics.counter(
    'webhook_deliveries_total',
    'Outbound webhook delivery outcomes (succeeded, retrying, failed, deferred by an open breaker, paced).',
    ['result'],
  );
}

/**
 * What an attempt's outcome does, inside the org's tenant transaction: the log row, the
 * delivery's state, the endpoint's breaker and health (410 and long failure disable it), and
 * the next attempt by the retry schedule. A success is one statement on the common path.
 */
@Injectable()
export class DeliveryOutcomes {
  private readonly logger = new Logger('WebhookDelivery');
  private readonly results: Counter<'result'>;

  constructor(
    private readonly tenant: TenantContext,
    private readonly breaker: EndpointBreaker,
    private readonly events: EventPublisher,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.results = deliveryResults(metrics);
  }

  /** Returns when to try again, or undefined when the delivery is done (or no longer ours). */
  async record(sent: SentAttempt, o: Outcome): Promise<Date | undefined> {
    if (o.errorClass === null) return this.recordSuccess(sent, o);
    const m = this.tenant.manager;
    const d = await m.findOne(WebhookDelivery, { where: { id: sent.deliveryId }, lock: { mode: 'pessimistic_write' } });
    await logAttempt(m, this.tenant.orgId, sent.deliveryId, sent.attempt, o);
    // Taken over as lost (this worker was too slow): the new owner decides what happens next.
    if (!d || d.status !== 'delivering' || d.attempts !== sent.attempt) return undefined;
    const e = await m.findOneOrFail(WebhookEndpoint, {
      where: { id: d.endpointId },
      lock: { mode: 'pessimistic_write' },
    });
    const fields = { last_status_code: o.statusCode, last_error: o.error };
    const at = this.logFields(sent, d, o);

    if (o.statusCode === 410) {
      await this.disableEndpoint(e, 'endpoint returned 410 Gone');
      await this.finish(d, 'failed', fields);
      this.logger.warn(at, 'webhook delivery failed: the endpoint is gone (410)');
      return undefined;
    }
    await this.breaker.record(m, e, false, await dbNow(m));
    const disableAfter = this.config.get('WEBHOOK_DISABLE_AFTER_HOURS');
    const [{ failing_since: since, too_long: tooLong }] = await returningRows<{
      failing_since: Date;
      too_long: boolean;
    }>(
      m,
      `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()), updated_at = now() WHERE id = $1
       RETURNING failing_since, failing_since < now() - make_interval(secs => $2) AS too_long`,
      [e.id, disableAfter * 3600],
    );
    if (tooLong) {
      await this.disableEndpoint(e, `every delivery failed since ${since.toISOString()} (over ${disableAfter} h)`);
      await this.finish(d, 'failed', fields);
      this.logger.warn(at, 'webhook delivery failed: its endpoint was disabled');
      return undefined;
    }
    const step = nextAttempt(
      { attempt: sent.attempt, statusCode: o.statusCode, retryAfter: o.retryAfter },
      {
        schedule: this.config.get('WEBHOOK_RETRY_SCHEDULE'),
        jitter: this.config.get('WEBHOOK_RETRY_JITTER'),
        retryAfterCapSeconds: this.config.get('WEBHOOK_RETRY_AFTER_CAP_SECONDS'),
      },
    );
    if (step.kind === 'give_up') {
      await this.finish(d, 'failed', fields);
      this.logger.warn(at, 'webhook delivery failed: no attempt left');
      return undefined;
    }
    const [row] = await returningRows<{ next_attempt_at: Date }>(
      m,
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + make_interval(secs => $2),
         last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1 RETURNING next_attempt_at`,
      [d.id, step.delayMs / 1000, o.statusCode, o.error],
    );
    this.results.inc({ result: 'retrying' });
    this.logger.log({ ...at, next_attempt_at: row.next_attempt_at.toISOString() }, 'webhook attempt failed: retry');
    return row.next_attempt_at;
  }

  /**
   * The outcomes of a batch, in the caller's transaction: all successes in one statement (log
   * rows and deliveries), their endpoints in one more; each failure as `record` does it.
   * Returns when each delivery that failed should be tried again.
   */
  async recordMany(batch: { sent: SentAttempt; outcome: Outcome }[]): Promise<Map<string, Date>> {
    const retries = new Map<string, Date>();
    const successes = batch.filter((b) => b.outcome.errorClass === null);
    if (successes.length) await this.recordSuccesses(successes);
    for (const { sent, outcome } of batch) {
      if (outcome.errorClass === null) continue;
      const at = await this.record(sent, outcome);
      if (at) retries.set(sent.deliveryId, at);
    }
    return retries;
  }

  private recordSuccess(sent: SentAttempt, o: Outcome): Promise<undefined> {
    return this.recordSuccesses([{ sent, outcome: o }]).then(() => undefined);
  }

  /**
   * Successes: the deliveries are done and logged in one statement. An endpoint row is
   * written only when something changes: its breaker or failure clock must reset, or
   * last_success_at is more than a second old (so a busy endpoint's row is not rewritten on
   * every delivery). An endpoint whose breaker is not closed records the success under its row
   * lock (it closes).
   */
  private async recordSuccesses(batch: { sent: SentAttempt; outcome: Outcome }[]): Promise<void> {
    const m = this.tenant.manager;
    const done = await returningRows<{ id: string; endpoint_id: string }>(
      m,
      `WITH input AS (
         SELECT * FROM unnest($2::uuid[], $3::int[], $4::int[], $5::int[], $6::text[])
           AS x(delivery_id, attempt, status_code, latency_ms, body)),
       logged AS (
         INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, status_code, latency_ms, error_class, response_body)
         SELECT $1, delivery_id, attempt, status_code, latency_ms, NULL, body FROM input
         ON CONFLICT (delivery_id, attempt) DO NOTHING)
       UPDATE webhook_deliveries d SET status = 'succeeded', succeeded_at = now(), last_status_code = i.status_code,
         last_error = NULL, updated_at = now()
       FROM input i WHERE d.id = i.delivery_id AND d.status = 'delivering' AND d.attempts = i.attempt
       RETURNING d.id, d.endpoint_id`,
      [
        this.tenant.orgId,
        batch.map((b) => b.sent.deliveryId),
        batch.map((b) => b.sent.attempt),
        batch.map((b) => b.outcome.statusCode),
        batch.map((b) => b.outcome.latencyMs),
        batch.map((b) => b.outcome.body),
      ],
    );
    // A delivery not returned was taken over as lost (this worker was too slow): the new owner decides.
    if (!done.length) return;
    this.results.inc({ result: 'succeeded' }, done.length);
    const jobOf = new Map(batch.map((b) => [b.sent.deliveryId, b.sent.jobId]));
    for (const d of done) {
      this.logger.debug(
        { org_id: this.tenant.orgId, delivery_id: d.id, endpoint_id: d.endpoint_id, job_id: jobOf.get(d.id) },
        'webhook delivered',
      );
    }
    const endpointIds = [...new Set(done.map((d) => d.endpoint_id))].sort();
    await m.query(
      `UPDATE webhook_endpoints SET breaker_failures = 0, failing_since = NULL, last_success_at = now()
       WHERE id = ANY($1::uuid[]) AND breaker_state = 'closed'
         AND (breaker_failures > 0 OR failing_since IS NOT NULL OR last_success_at IS NULL
           OR last_success_at < now() - interval '1 second')`,
      [endpointIds],
    );
    const notClosed = (await m.query(
      `SELECT id FROM webhook_endpoints WHERE id = ANY($1::uuid[]) AND breaker_state <> 'closed' ORDER BY id`,
      [endpointIds],
    )) as { id: string }[];
    for (const { id } of notClosed) {
      const e = await m.findOne(WebhookEndpoint, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!e || e.breakerState === 'closed') continue;
      await this.breaker.record(m, e, true, await dbNow(m));
      await m.query(
        `UPDATE webhook_endpoints SET last_success_at = now(), failing_since = NULL, updated_at = now() WHERE id = $1`,
        [e.id],
      );
    }
  }

  async finish(
    d: WebhookDelivery,
    status: 'succeeded' | 'failed',
    fields: { last_status_code?: number | null; last_error: string | null },
  ): Promise<void> {
    await this.tenant.manager.query(
      `UPDATE webhook_deliveries SET status = $2, succeeded_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE succeeded_at END,
         last_status_code = coalesce($3, last_status_code), last_error = $4, updated_at = now() WHERE id = $1`,
      [d.id, status, fields.last_status_code ?? null, fields.last_error],
    );
    this.results.inc({ result: status });
  }

  /** Disables the endpoint once, with an event and an audit entry (in the caller's transaction). */
  private async disableEndpoint(e: WebhookEndpoint, reason: string): Promise<void> {
    const rows = await returningRows<{ disabled_at: Date }>(
      this.tenant.manager,
      `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now()
       WHERE id = $1 AND enabled RETURNING disabled_at`,
      [e.id, reason],
    );
    if (!rows.length) return;
    const data = { endpoint_id: e.id, reason, disabled_at: rows[0].disabled_at.toISOString() };
    await this.events.publish('webhook.endpoint.disabled', data);
    await this.audit.record({
      action: 'webhook.endpoint.disabled',
      actorType: 'system',
      actorId: 'system:webhook-delivery',
      targetType: 'webhook_endpoint',
      targetId: e.id,
      data,
    });
    this.logger.warn({ org_id: this.tenant.orgId, endpoint_id: e.id, reason }, 'webhook endpoint disabled');
  }

  /** What a log line of a failed attempt carries: ids and the failure, never payload or secret. */
  private logFields(sent: SentAttempt, d: WebhookDelivery, o: Outcome) {
    return {
      org_id: this.tenant.orgId,
      delivery_id: d.id,
      endpoint_id: d.endpointId,
      event_id: d.eventId,
      attempt: sent.attempt,
      job_id: sent.jobId,
      status_code: o.statusCode,
      error_class: o.errorClass,
    };
  }
}
