import { Injectable } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { AppConfig } from '../../libs/config';
import { TenantContext } from '../../libs/database';
import { QueueService } from '../../libs/queue';
import { DeliveryClaims } from './delivery-claims';
import type { Claim, Send } from './delivery-claims';
import { DeliveryOutcomes } from './delivery-outcomes';
import type { Outcome } from './delivery-outcomes';
import { httpErrorClass } from './delivery-schedule';
import { OutboundError, postJson } from './outbound-http';
import { webhookRequest } from './standard-webhooks';

export const DELIVER_QUEUE = 'webhooks.deliver';
/** Deliveries one `webhooks.deliver` job carries (claimed together, POSTed concurrently, recorded together). */
export const DELIVERIES_PER_JOB = 25;
const JOBS_PER_INSERT = 500;

/** One delivery (`delivery_id`, retries and jobs sent before batching) or a batch (`delivery_ids`). */
export interface DeliverJobData {
  org_id: string;
  delivery_id?: string;
  delivery_ids?: string[];
}

/**
 * One attempt of each delivery of a batch, in three steps so no transaction spans the HTTP
 * calls: claim (DeliveryClaims, one transaction for the batch: the delivery and the endpoint's
 * breaker and rate slots decide; the attempt is counted) → POSTs, concurrently → record
 * (DeliveryOutcomes, one transaction: log rows, breaker, endpoint health, next attempt).
 * Safe to run twice for the same delivery: the claim lets only one attempt be in flight.
 */
@Injectable()
export class DeliveryWorker {
  constructor(
    private readonly tenant: TenantContext,
    private readonly queue: QueueService,
    private readonly claims: DeliveryClaims,
    private readonly outcomes: DeliveryOutcomes,
    private readonly config: AppConfig,
  ) {}

  /** One delivery, alone: claim, POST, record. */
  deliver(orgId: string, deliveryId: string, jobId?: string): Promise<void> {
    return this.deliverOne(orgId, deliveryId, jobId, (id) => this.claims.claim(id));
  }

  private async deliverOne(
    orgId: string,
    deliveryId: string,
    jobId: string | undefined,
    claimWith: (id: string) => Promise<Claim>,
  ): Promise<void> {
    const claim = await this.tenant.run(orgId, () => claimWith(deliveryId));
    if (claim.kind === 'skip') return;
    if (claim.kind === 'later') return this.enqueue(orgId, deliveryId, claim.at);
    await this.sendAndRecord(orgId, [claim], jobId);
  }

  /**
   * A batch: the common case (closed breaker, no rate limit, due) claimed in one transaction,
   * POSTed concurrently and recorded in one transaction; meanwhile every other delivery of the
   * batch (paced, breaker not closed, taken over) goes alone through the locking claim, so its slot or
   * probe is not held up by the batch.
   */
  async deliverMany(orgId: string, deliveryIds: string[], jobId?: string): Promise<void> {
    const ids = [...new Set(deliveryIds)];
    const common = await this.tenant.run(orgId, () => this.claims.claimCommon(ids));
    const claimed = new Set(common.map((c) => c.deliveryId));
    const rest = ids.filter((id) => !claimed.has(id));
    const results = await Promise.allSettled([
      common.length ? this.sendAndRecord(orgId, common, jobId) : undefined,
      (async () => {
        // Already passed over by the one-statement claim: straight to the locking path.
        for (const id of rest) await this.deliverOne(orgId, id, jobId, (x) => this.claims.claimAlone(x));
      })(),
    ]);
    // Both halves have finished before the job fails (pg-boss retries it; what was done is skipped).
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  private async sendAndRecord(orgId: string, sends: Send[], jobId?: string): Promise<void> {
    const outcomes = await Promise.all(sends.map((claim) => this.post(claim)));
    const batch = sends.map((claim, i) => ({
      sent: { deliveryId: claim.deliveryId, attempt: claim.attempt, jobId },
      outcome: outcomes[i],
    }));
    const retries = await this.tenant.run(orgId, () => this.outcomes.recordMany(batch));
    for (const [id, at] of retries) await this.enqueue(orgId, id, at);
  }

  async enqueue(orgId: string, deliveryId: string, at?: Date): Promise<void> {
    const data: DeliverJobData = { org_id: orgId, delivery_id: deliveryId };
    await this.queue.send(DELIVER_QUEUE, data, at ? { startAfter: at } : {});
  }

  /**
   * Jobs for deliveries due now: DELIVERIES_PER_JOB per job, in inserts of up to 500 jobs
   * (not one round trip each).
   */
  async enqueueMany(orgId: string, deliveryIds: string[]): Promise<void> {
    const jobs: PgBoss.JobInsert[] = [];
    for (let i = 0; i < deliveryIds.length; i += DELIVERIES_PER_JOB) {
      const data: DeliverJobData = { org_id: orgId, delivery_ids: deliveryIds.slice(i, i + DELIVERIES_PER_JOB) };
      jobs.push({ name: DELIVER_QUEUE, data });
    }
    for (let i = 0; i < jobs.length; i += JOBS_PER_INSERT) {
      await this.queue.insertAll(jobs.slice(i, i + JOBS_PER_INSERT));
    }
    // This process' idle delivery loops take them now.
    this.queue.wake(DELIVER_QUEUE, jobs.length);
  }

  /** The POST itself, outside any transaction: signed, SSRF-checked at connect time, timed out. */
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
        retryAfter: res.headers['retry-after'],
        body: res.bodyPrefix,
        latencyMs: Math.round(res.latencyMs),
        errorClass: ok ? null : httpErrorClass(res.statusCode),
        error: ok ? null : `HTTP ${res.statusCode}`,
      };
    } catch (err) {
      const errorClass = err instanceof OutboundError ? err.errorClass : 'connection_error';
      return {
        statusCode: null,
        retryAfter: undefined,
        body: null,
        latencyMs: Date.now() - started,
        errorClass,
        error: `${errorClass}: ${(err as Error).message}`.slice(0, 500),
      };
    }
  }
}
