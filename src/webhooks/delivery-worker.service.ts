import { Injectable, Logger } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import type { Counter } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { AppConfig } from '../../libs/config';
import { returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { MetricsService } from '../../libs/observability';
import { QueueService } from '../../libs/queue';
import { httpErrorClass, nextAttempt } from './delivery-schedule';
import { EndpointBreaker } from './endpoint-breaker';
import { EndpointsService } from './endpoints.service';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { OutboundError, postJson } from './outbound-http';
import type { PostJsonResult } from './outbound-http';
import { webhookRequest } from './standard-webhooks';

export const DELIVER_QUEUE = 'webhooks.deliver';
const ENQUEUE_CHUNK = 500;

export interface DeliverJobData {
  org_id: string;
  delivery_id: string;
}

/** What one attempt needs, whichever way it was claimed. */
interface Send {
  kind: 'send';
  deliveryId: string;
  payload: Record<string, unknown>;
  url: string;
  format: WebhookEndpoint['format'];
  secrets: string[];
  attempt: number;
}

type Claim = { kind: 'skip' } | { kind: 'later'; at: Date } | Send;

/** The columns the one-statement claim returns. */
interface FastClaimRow {
  payload: Record<string, unknown>;
  attempts: number;
  endpoint_id: string;
  org_id: string;
  url: string;
  format: WebhookEndpoint['format'];
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
}

interface Outcome {
  statusCode: number | null;
  headers: PostJsonResult['headers'];
  body: string | null;
  latencyMs: number;
  errorClass: string | null;
  error: string | null;
}

/** A paced delivery whose slot is at most this far ahead goes now. */
const SLOT_EARLY_MS = 10;

/** The transaction's clock: breaker and staleness decisions compare database times only. */
async function dbNow(m: EntityManager): Promise<number> {
  const [{ now }] = (await m.query(`SELECT now() AS now`)) as { now: Date }[];
  return now.getTime();
}

/**
 * One attempt of one delivery, in three steps so no transaction spans the HTTP call:
 * claim (lock the delivery, ask the endpoint's breaker, mark it 'delivering' and count the
 * attempt) → POST → record (log row, breaker, endpoint health, next attempt). Safe to run twice
 * for the same delivery: the claim lets only one attempt be in flight.
 */
@Injectable()
export class DeliveryWorker {
  private readonly logger = new Logger('WebhookDelivery');
  private readonly results: Counter<'result'>;

  constructor(
    private readonly tenant: TenantContext,
    private readonly queue: QueueService,
    private readonly breaker: EndpointBreaker,
    private readonly endpoints: EndpointsService,
    private readonly events: EventPublisher,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.results = metrics.counter(
      'webhook_deliveries_total',
      'Outbound webhook delivery outcomes (succeeded, retrying, failed, deferred by an open breaker).',
      ['result'],
    );
  }

  async deliver(orgId: string, deliveryId: string): Promise<void> {
    const claim = await this.tenant.run(orgId, () => this.claim(deliveryId));
    if (claim.kind === 'skip') return;
    if (claim.kind === 'later') return this.enqueue(orgId, deliveryId, claim.at);
    const outcome = await this.post(claim);
    const retryAt = await this.tenant.run(orgId, () => this.record(claim, outcome));
    if (retryAt) await this.enqueue(orgId, deliveryId, retryAt);
  }

  async enqueue(orgId: string, deliveryId: string, at?: Date): Promise<void> {
    const data: DeliverJobData = { org_id: orgId, delivery_id: deliveryId };
    await this.queue.send(DELIVER_QUEUE, data, at ? { startAfter: at } : {});
  }

  /** Jobs for deliveries due now, in inserts of up to 500 (not one round trip each). */
  async enqueueMany(orgId: string, deliveryIds: string[]): Promise<void> {
    for (let i = 0; i < deliveryIds.length; i += ENQUEUE_CHUNK) {
      const jobs: PgBoss.JobInsert[] = deliveryIds.slice(i, i + ENQUEUE_CHUNK).map((id) => {
        const data: DeliverJobData = { org_id: orgId, delivery_id: id };
        return { name: DELIVER_QUEUE, data };
      });
      await this.queue.boss.insert(jobs);
    }
  }

  /**
   * The common case in one statement: a due delivery to an enabled endpoint whose breaker is
   * closed and that has no rate limit. The endpoint row is read, not locked, so deliveries to
   * one endpoint do not queue behind each other (a breaker that opens meanwhile lets the
   * attempts already claimed go ahead, as any breaker does with calls in flight). Anything
   * else (a breaker not closed, a rate limit, a stale attempt, a duplicate job) returns
   * undefined and takes the locking path.
   */
  private async fastClaim(deliveryId: string): Promise<Send | undefined> {
    const [row] = await returningRows<FastClaimRow>(
      this.tenant.manager,
      `UPDATE webhook_deliveries d SET status = 'delivering', attempts = d.attempts + 1, rate_slot_at = NULL,
         updated_at = now()
       FROM webhook_endpoints e
       WHERE d.id = $1 AND e.id = d.endpoint_id AND d.status IN ('pending', 'deferred')
         AND d.next_attempt_at <= now() + interval '1 second'
         AND e.enabled AND e.deleted_at IS NULL AND e.breaker_state = 'closed' AND e.rate_limit_per_second IS NULL
       RETURNING d.payload, d.attempts, e.id AS endpoint_id, e.org_id, e.url, e.format, e.secret_ciphertext,
         e.previous_secret_ciphertext, e.previous_secret_expires_at`,
      [deliveryId],
    );
    if (!row) return undefined;
    const secrets =
      row.format === 'standard'
        ? this.endpoints.signingSecrets({
            id: row.endpoint_id,
            orgId: row.org_id,
            secretCiphertext: row.secret_ciphertext,
            previousSecretCiphertext: row.previous_secret_ciphertext,
            previousSecretExpiresAt: row.previous_secret_expires_at,
          })
        : [];
    return {
      kind: 'send',
      deliveryId,
      payload: row.payload,
      url: row.url,
      format: row.format,
      secrets,
      attempt: row.attempts,
    };
  }

  private async claim(deliveryId: string): Promise<Claim> {
    const fast = await this.fastClaim(deliveryId);
    if (fast) return fast;
    const m = this.tenant.manager;
    const d = await m.findOne(WebhookDelivery, { where: { id: deliveryId }, lock: { mode: 'pessimistic_write' } });
    if (!d || d.status === 'succeeded' || d.status === 'failed') return { kind: 'skip' };
    const now = new Date(await dbNow(m));
    if (d.status === 'delivering') {
      // Another worker is on it, unless that worker died mid-attempt (then its attempt is lost).
      if (now.getTime() - d.updatedAt.getTime() < this.breaker.staleAfterMs) return { kind: 'skip' };
      await this.logLostAttempt(d);
    } else if (d.nextAttemptAt.getTime() > now.getTime() + 1000) {
      return { kind: 'skip' }; // an early duplicate job; the scheduled one (or the redrive) comes later
    }
    const e = await m.findOne(WebhookEndpoint, { where: { id: d.endpointId }, lock: { mode: 'pessimistic_write' } });
    if (!e || e.deletedAt || !e.enabled) {
      await this.finish(d, 'failed', { last_error: e?.deletedAt || !e ? 'endpoint deleted' : 'endpoint disabled' });
      return { kind: 'skip' };
    }
    const wait = await this.rateLimitWait(d, e, now);
    if (wait) {
      await m.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $2, rate_slot_at = $2, updated_at = now()
         WHERE id = $1`,
        [d.id, wait],
      );
      this.results.inc({ result: 'paced' });
      return { kind: 'later', at: wait };
    }
    const decision = await this.breaker.acquire(m, e, now.getTime());
    if (!decision.allowed) {
      const [row] = await returningRows<{ next_attempt_at: Date }>(
        m,
        `UPDATE webhook_deliveries SET status = 'deferred', next_attempt_at = now() + make_interval(secs => $2),
           updated_at = now() WHERE id = $1 RETURNING next_attempt_at`,
        [d.id, decision.retryInMs / 1000],
      );
      this.results.inc({ result: 'deferred' });
      return { kind: 'later', at: row.next_attempt_at };
    }
    const secrets = e.format === 'standard' ? await this.endpoints.signingSecrets(e) : [];
    const [row] = await returningRows<{ attempts: number }>(
      m,
      `UPDATE webhook_deliveries SET status = 'delivering', attempts = attempts + 1, rate_slot_at = NULL,
         updated_at = now() WHERE id = $1 RETURNING attempts`,
      [d.id],
    );
    return {
      kind: 'send',
      deliveryId: d.id,
      payload: d.payload,
      url: e.url,
      format: e.format,
      secrets,
      attempt: row.attempts,
    };
  }

  /**
   * Paces a rate-limited endpoint: every attempt takes the endpoint's next free slot, slots
   * 1/rate apart (kept in the endpoint row, so shared by every worker), and is never sent
   * before it. Returns when to come back, or undefined to send now. A delivery that already
   * holds a slot keeps it (a retry of its job does not queue it again). `e` is locked.
   */
  private async rateLimitWait(d: WebhookDelivery, e: WebhookEndpoint, now: Date): Promise<Date | undefined> {
    if (!e.rateLimitPerSecond) return undefined;
    if (d.rateSlotAt) return d.rateSlotAt.getTime() > now.getTime() + SLOT_EARLY_MS ? d.rateSlotAt : undefined;
    const [row] = await returningRows<{ slot: Date; now: Date }>(
      this.tenant.manager,
      `UPDATE webhook_endpoints
         SET rate_next_slot_at = greatest(rate_next_slot_at, clock_timestamp()) + make_interval(secs => 1.0 / $2)
       WHERE id = $1
       RETURNING rate_next_slot_at - make_interval(secs => 1.0 / $2) AS slot, clock_timestamp() AS now`,
      [e.id, e.rateLimitPerSecond],
    );
    return row.slot.getTime() > row.now.getTime() + SLOT_EARLY_MS ? row.slot : undefined;
  }

  private async post(claim: Send): Promise<Outcome> {
    const { body, headers } = webhookRequest(claim.payload, claim.format, claim.secrets, Date.now());
    const started = Date.now();
    try {
      const res = await postJson(claim.url, body, headers, {
        timeoutMs: this.config.get('WEBHOOK_TIMEOUT_MS'),
        allowLoopback: this.config.get('WEBHOOKS_ALLOW_PRIVATE_TARGETS'),
        allowHttp: this.config.get('WEBHOOKS_ALLOW_HTTP'),
      });
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return {
        statusCode: res.statusCode,
        headers: res.headers,
        body: res.bodyPrefix,
        latencyMs: Math.round(res.latencyMs),
        errorClass: ok ? null : httpErrorClass(res.statusCode),
        error: ok ? null : `HTTP ${res.statusCode}`,
      };
    } catch (err) {
      const errorClass = err instanceof OutboundError ? err.errorClass : 'connection_error';
      return {
        statusCode: null,
        headers: {},
        body: null,
        latencyMs: Date.now() - started,
        errorClass,
        error: `${errorClass}: ${(err as Error).message}`.slice(0, 500),
      };
    }
  }

  /** Returns when to try again, or undefined when the delivery is done (or no longer ours). */
  private async record(claim: Send, o: Outcome): Promise<Date | undefined> {
    if (o.errorClass === null) return this.recordSuccess(claim, o);
    const m = this.tenant.manager;
    const d = await m.findOne(WebhookDelivery, {
      where: { id: claim.deliveryId },
      lock: { mode: 'pessimistic_write' },
    });
    await this.logAttempt(claim, o);
    // Taken over as lost (this worker was too slow): the new owner decides what happens next.
    if (!d || d.status !== 'delivering' || d.attempts !== claim.attempt) return undefined;
    const e = await m.findOneOrFail(WebhookEndpoint, {
      where: { id: d.endpointId },
      lock: { mode: 'pessimistic_write' },
    });
    const fields = { last_status_code: o.statusCode, last_error: o.error };

    if (o.statusCode === 410) {
      await this.disableEndpoint(e, 'endpoint returned 410 Gone');
      await this.finish(d, 'failed', fields);
      return undefined;
    }
    await this.breaker.record(m, e, false, await dbNow(m));
    const [{ failing_since: since, too_long: tooLong }] = await returningRows<{
      failing_since: Date;
      too_long: boolean;
    }>(
      m,
      `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()), updated_at = now() WHERE id = $1
       RETURNING failing_since, failing_since < now() - make_interval(secs => $2) AS too_long`,
      [e.id, this.config.get('WEBHOOK_DISABLE_AFTER_HOURS') * 3600],
    );
    if (tooLong) {
      const hours = this.config.get('WEBHOOK_DISABLE_AFTER_HOURS');
      await this.disableEndpoint(e, `every delivery failed since ${since.toISOString()} (over ${hours} h)`);
      await this.finish(d, 'failed', fields);
      return undefined;
    }
    const step = nextAttempt(
      { attempt: claim.attempt, statusCode: o.statusCode, retryAfter: o.headers['retry-after'] },
      {
        schedule: this.config.get('WEBHOOK_RETRY_SCHEDULE'),
        jitter: this.config.get('WEBHOOK_RETRY_JITTER'),
        retryAfterCapSeconds: this.config.get('WEBHOOK_RETRY_AFTER_CAP_SECONDS'),
      },
    );
    if (step.kind === 'give_up') {
      await this.finish(d, 'failed', fields);
      return undefined;
    }
    const [row] = await returningRows<{ next_attempt_at: Date }>(
      m,
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + make_interval(secs => $2),
         last_status_code = $3, last_error = $4, updated_at = now() WHERE id = $1 RETURNING next_attempt_at`,
      [d.id, step.delayMs / 1000, o.statusCode, o.error],
    );
    this.results.inc({ result: 'retrying' });
    return row.next_attempt_at;
  }

  /**
   * A success: the delivery is done and logged in one statement. The endpoint row is written
   * only when something changes: its breaker or failure clock must reset, or last_success_at
   * is more than a second old (so a busy endpoint's row is not rewritten on every delivery).
   * A breaker that is not closed records the success under the row lock (it closes).
   */
  private async recordSuccess(claim: Send, o: Outcome): Promise<undefined> {
    const m = this.tenant.manager;
    const [done] = await returningRows<{ endpoint_id: string }>(
      m,
      `WITH logged AS (
         INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, status_code, latency_ms, error_class, response_body)
         VALUES ($3, $1, $2, $4, $5, NULL, $6) ON CONFLICT (delivery_id, attempt) DO NOTHING)
       UPDATE webhook_deliveries SET status = 'succeeded', succeeded_at = now(), last_status_code = $4,
         last_error = NULL, updated_at = now()
       WHERE id = $1 AND status = 'delivering' AND attempts = $2
       RETURNING endpoint_id`,
      [claim.deliveryId, claim.attempt, this.tenant.orgId, o.statusCode, o.latencyMs, o.body],
    );
    // Taken over as lost (this worker was too slow): the new owner decides what happens next.
    if (!done) return undefined;
    const endpointId = done.endpoint_id;
    this.results.inc({ result: 'succeeded' });
    const closed = await returningRows<{ id: string }>(
      m,
      `UPDATE webhook_endpoints SET breaker_failures = 0, failing_since = NULL, last_success_at = now()
       WHERE id = $1 AND breaker_state = 'closed'
         AND (breaker_failures > 0 OR failing_since IS NOT NULL OR last_success_at IS NULL
           OR last_success_at < now() - interval '1 second')
       RETURNING id`,
      [endpointId],
    );
    if (closed.length) return undefined;
    const e = await m.findOne(WebhookEndpoint, { where: { id: endpointId }, lock: { mode: 'pessimistic_write' } });
    if (!e || e.breakerState === 'closed') return undefined; // closed and nothing to reset
    await this.breaker.record(m, e, true, await dbNow(m));
    await m.query(
      `UPDATE webhook_endpoints SET last_success_at = now(), failing_since = NULL, updated_at = now() WHERE id = $1`,
      [e.id],
    );
    return undefined;
  }

  private async logAttempt(claim: Send, o: Outcome): Promise<void> {
    await this.tenant.manager.query(
      `INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, status_code, latency_ms, error_class, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [this.tenant.orgId, claim.deliveryId, claim.attempt, o.statusCode, o.latencyMs, o.errorClass, o.body],
    );
  }

  private async finish(
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
    this.logger.warn({ endpoint_id: e.id, reason }, 'webhook endpoint disabled');
  }

  /** The attempt of a worker that died mid-delivery gets a log row, so the log has no gap. */
  async logLostAttempt(d: Pick<WebhookDelivery, 'id' | 'attempts'>): Promise<void> {
    if (d.attempts < 1) return;
    await this.tenant.manager.query(
      `INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, latency_ms, error_class)
       VALUES ($1, $2, $3, 0, 'worker_lost') ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [this.tenant.orgId, d.id, d.attempts],
    );
  }
}
