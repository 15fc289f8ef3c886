import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../../libs/config';
import { DatabaseService, returningRows, TenantContext } from '../../../libs/database';
import { ClusterCron, JobHandler, QUEUE_SCHEMA } from '../../../libs/queue';
import type { JobContext } from '../../../libs/queue';
import { logLostAttempt } from '../delivery-log';
import { DELIVER_QUEUE, DeliveryWorker } from '../delivery-worker.service';
import type { DeliverJobData } from '../delivery-worker.service';

/** Deliveries the redrive re-enqueues per tick (the rest wait for the next tick). */
const REDRIVE_BATCH = 1000;
/** A pending/deferred delivery this late (seconds past next_attempt_at) has lost its job. */
const OVERDUE_SECONDS = 60;

/**
 * Overdue and abandoned deliveries, across orgs ($1: seconds overdue, $2: seconds in flight,
 * $3: whether overdue waiting deliveries count). Only unfinished rows qualify, so the partial
 * index webhook_deliveries_unfinished serves it however many finished deliveries the table keeps.
 */
export const REDRIVE_SQL = `SELECT id, org_id FROM webhook_deliveries
  WHERE ($3::boolean AND status IN ('pending', 'deferred') AND next_attempt_at < now() - make_interval(secs => $1))
     OR (status = 'delivering' AND updated_at < now() - make_interval(secs => $2))
  ORDER BY next_attempt_at LIMIT ${REDRIVE_BATCH}`;

/**
 * True when the deliver queue holds jobs that have been due for over $2 seconds: the queue is
 * behind, so an overdue waiting delivery is most likely still in line, not lost. (Reads
 * pg-boss 10's job table, whose layout is pinned with the package version.)
 */
const QUEUE_BEHIND_SQL = `SELECT EXISTS (
  SELECT 1 FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry')
    AND start_after < now() - make_interval(secs => $2)) AS behind`;

/**
 * The `webhooks.deliver` queue and its safety net. A job whose worker dies expires after
 * 150 s (the longest WEBHOOK_TIMEOUT_MS, 120 s, plus 30 s; the decorator is static) and is
 * retried by pg-boss; the handler then finds the delivery 'delivering' and stale and takes it
 * over. The redrive catches everything else: jobs lost between commit and send, or a worker
 * killed when its job had no retries left.
 */
@Injectable()
export class DeliverWebhookJob {
  private readonly logger = new Logger('WebhookRedrive');

  constructor(
    private readonly worker: DeliveryWorker,
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
    private readonly config: AppConfig,
  ) {}

  @JobHandler(DELIVER_QUEUE, {
    workers: 8,
    batchSize: 1,
    queue: { retryLimit: 5, retryDelay: 5, retryBackoff: true, expireInSeconds: 150 },
  })
  async deliver(data: DeliverJobData, job: JobContext): Promise<void> {
    const ids = data.delivery_ids ?? (data.delivery_id ? [data.delivery_id] : []);
    if (ids.length) await this.worker.deliverMany(data.org_id, ids, job.id);
  }

  @ClusterCron('webhooks.redrive', { everyMs: 30_000 })
  async redrive(): Promise<number> {
    const lostAfter = Math.ceil(this.config.get('WEBHOOK_TIMEOUT_MS') / 1000) + 60;
    // System connection to find them across orgs; each org's tenant context to act.
    // While the queue is behind, re-sending waiting deliveries would only add duplicate jobs;
    // abandoned attempts are still taken over. Lost jobs are re-sent once it has caught up.
    const [{ behind }] = (await this.db.system.query(QUEUE_BEHIND_SQL, [DELIVER_QUEUE, OVERDUE_SECONDS])) as {
      behind: boolean;
    }[];
    const rows = (await this.db.system.query(REDRIVE_SQL, [OVERDUE_SECONDS, lostAfter, !behind])) as {
      id: string;
      org_id: string;
    }[];
    const byOrg = new Map<string, string[]>();
    for (const r of rows) byOrg.set(r.org_id, [...(byOrg.get(r.org_id) ?? []), r.id]);
    let requeued = 0;
    for (const [orgId, ids] of byOrg) {
      const ready = await this.tenant.run(orgId, () => this.release(ids, lostAfter));
      await this.worker.enqueueMany(orgId, ready);
      requeued += ready.length;
    }
    if (requeued) this.logger.warn(`re-enqueued ${requeued} overdue or abandoned webhook deliveries`);
    return requeued;
  }

  /**
   * Makes them due now (re-checked under lock: a worker may have moved on since), so the next
   * tick does not send them again while this batch waits in the queue. An abandoned attempt
   * gets its log row.
   */
  private async release(ids: string[], lostAfter: number): Promise<string[]> {
    const rows = await returningRows<{ id: string; was: string; attempts: number }>(
      this.tenant.manager,
      `WITH due AS (
         SELECT id, status, attempts FROM webhook_deliveries WHERE id = ANY($1::uuid[])
           AND ((status IN ('pending', 'deferred') AND next_attempt_at < now() - make_interval(secs => $2))
             OR (status = 'delivering' AND updated_at < now() - make_interval(secs => $3)))
         FOR UPDATE)
       UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), updated_at = now()
       FROM due WHERE d.id = due.id RETURNING d.id, due.status AS was, due.attempts`,
      [ids, OVERDUE_SECONDS, lostAfter],
    );
    for (const r of rows) if (r.was === 'delivering') await logLostAttempt(this.tenant.manager, this.tenant.orgId, r);
    return rows.map((r) => r.id);
  }
}
