import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { returningRows, TenantContext } from '../../libs/database';
import { MetricsService } from '../../libs/observability';
import { logLostAttempt } from './delivery-log';
import { dbNow, DeliveryOutcomes, deliveryResults } from './delivery-outcomes';
import { EndpointBreaker } from './endpoint-breaker';
import { EndpointsService } from './endpoints.service';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';

/** What one attempt needs, whichever way it was claimed. */
export interface Send {
  kind: 'send';
  deliveryId: string;
  payload: Record<string, unknown>;
  url: string;
  format: WebhookEndpoint['format'];
  secrets: string[];
  attempt: number;
}

export type Claim = { kind: 'skip' } | { kind: 'later'; at: Date } | Send;

/** The columns the one-statement claim returns. */
interface FastClaimRow {
  id: string;
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

/** A paced delivery whose slot is at most this far ahead goes now. */
const SLOT_EARLY_MS = 10;

/**
 * Claims one attempt of a delivery inside the org's tenant transaction: either it may be sent
 * now (marked 'delivering', attempt counted), or it waits (a rate slot, an open breaker), or
 * there is nothing to do (done, in flight elsewhere, an early duplicate job).
 */
@Injectable()
export class DeliveryClaims {
  private readonly results: Counter<'result'>;

  constructor(
    private readonly tenant: TenantContext,
    private readonly breaker: EndpointBreaker,
    private readonly endpoints: EndpointsService,
    private readonly outcomes: DeliveryOutcomes,
    metrics: MetricsService,
  ) {
    this.results = deliveryResults(metrics);
  }

  async claim(deliveryId: string): Promise<Claim> {
    const [fast] = await this.claimCommon([deliveryId]);
    return fast ?? this.claimAlone(deliveryId);
  }

  /**
   * The common case in one statement: due deliveries to enabled endpoints whose breaker is
   * closed and that have no rate limit. Rows are locked in id order and a row another
   * transaction holds is passed over (it goes to the locking path, which waits for it). The
   * endpoint row is read, not locked, so deliveries to one endpoint do not queue behind each
   * other (a breaker that opens meanwhile lets the attempts already claimed go ahead, as any
   * breaker does with calls in flight). Anything else (a breaker not closed, a rate limit, a
   * stale attempt, a duplicate job) is left to the locking path.
   */
  async claimCommon(deliveryIds: string[]): Promise<Send[]> {
    const rows = await returningRows<FastClaimRow>(
      this.tenant.manager,
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.id = ANY($1::uuid[]) AND d.status IN ('pending', 'deferred')
           AND d.next_attempt_at <= now() + interval '1 second'
           AND e.enabled AND e.deleted_at IS NULL AND e.breaker_state = 'closed' AND e.rate_limit_per_second IS NULL
         ORDER BY d.id FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d SET status = 'delivering', attempts = d.attempts + 1, rate_slot_at = NULL,
         updated_at = now()
       FROM due, webhook_endpoints e
       WHERE d.id = due.id AND e.id = d.endpoint_id
       RETURNING d.id, d.payload, d.attempts, e.id AS endpoint_id, e.org_id, e.url, e.format, e.secret_ciphertext,
         e.previous_secret_ciphertext, e.previous_secret_expires_at`,
      [deliveryIds],
    );
    // Each endpoint's secrets are opened once per batch.
    const opened = new Map<string, string[]>();
    const secretsOf = (row: FastClaimRow): string[] => {
      if (row.format !== 'standard') return [];
      const key = `${row.endpoint_id}:${row.secret_ciphertext}:${row.previous_secret_ciphertext ?? ''}`;
      let secrets = opened.get(key);
      if (!secrets) {
        secrets = this.endpoints.signingSecrets({
          id: row.endpoint_id,
          orgId: row.org_id,
          secretCiphertext: row.secret_ciphertext,
          previousSecretCiphertext: row.previous_secret_ciphertext,
          previousSecretExpiresAt: row.previous_secret_expires_at,
        });
        opened.set(key, secrets);
      }
      return secrets;
    };
    return rows.map((row) => send(row.id, row.payload, row.url, row.format, secretsOf(row), row.attempts));
  }

  /** Every other case, under the delivery's and the endpoint's row locks. */
  async claimAlone(deliveryId: string): Promise<Claim> {
    const m = this.tenant.manager;
    const d = await m.findOne(WebhookDelivery, { where: { id: deliveryId }, lock: { mode: 'pessimistic_write' } });
    if (!d || d.status === 'succeeded' || d.status === 'failed') return { kind: 'skip' };
    const now = new Date(await dbNow(m));
    if (d.status === 'delivering') {
      // Another worker is on it, unless that worker died mid-attempt (then its attempt is lost).
      if (now.getTime() - d.updatedAt.getTime() < this.breaker.staleAfterMs) return { kind: 'skip' };
      await logLostAttempt(m, this.tenant.orgId, d);
    } else if (d.nextAttemptAt.getTime() > now.getTime() + 1000) {
      return { kind: 'skip' }; // an early duplicate job; the scheduled one (or the redrive) comes later
    }
    const e = await m.findOne(WebhookEndpoint, { where: { id: d.endpointId }, lock: { mode: 'pessimistic_write' } });
    if (!e || e.deletedAt || !e.enabled) {
      const reason = e?.deletedAt || !e ? 'endpoint deleted' : 'endpoint disabled';
      await this.outcomes.finish(d, 'failed', { last_error: reason });
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
    return send(d.id, d.payload, e.url, e.format, secrets, row.attempts);
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
}

function send(
  deliveryId: string,
  payload: Record<string, unknown>,
  url: string,
  format: WebhookEndpoint['format'],
  secrets: string[],
  attempt: number,
): Send {
  return { kind: 'send', deliveryId, payload, url, format, secrets, attempt };
}
