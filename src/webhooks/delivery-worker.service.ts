import { Injectable } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { AppConfig } from '../../libs/config';
import { TenantContext } from '../../libs/database';
import { QueueService } from '../../libs/queue';
import { DeliveryClaims } from './delivery-claims';
import type { Send } from './delivery-claims';
import { DeliveryOutcomes } from './delivery-outcomes';
import type { Outcome } from './delivery-outcomes';
import { httpErrorClass } from './delivery-schedule';
import { OutboundError, postJson } from './outbound-http';
import { webhookRequest } from './standard-webhooks';

export const DELIVER_QUEUE = 'webhooks.deliver';
const ENQUEUE_CHUNK = 500;

export interface DeliverJobData {
  org_id: string;
  delivery_id: string;
}

/**
 * One attempt of one delivery, in three steps so no transaction spans the HTTP call:
 * claim (DeliveryClaims: the delivery and the endpoint's breaker and rate slots decide; the
 * attempt is counted) → POST → record (DeliveryOutcomes: log row, breaker, endpoint health,
 * next attempt). Safe to run twice for the same delivery: the claim lets only one attempt be
 * in flight.
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

  async deliver(orgId: string, deliveryId: string, jobId?: string): Promise<void> {
    const claim = await this.tenant.run(orgId, () => this.claims.claim(deliveryId));
    if (claim.kind === 'skip') return;
    if (claim.kind === 'later') return this.enqueue(orgId, deliveryId, claim.at);
    const outcome = await this.post(claim);
    const sent = { deliveryId, attempt: claim.attempt, jobId };
    const retryAt = await this.tenant.run(orgId, () => this.outcomes.record(sent, outcome));
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
