import { Injectable, Logger } from '@nestjs/common';
import { returningRows, TenantContext } from '../../../libs/database';
import { EventPublisher } from '../../../libs/events';
import { JobHandler } from '../../../libs/queue';
import type { JobContext } from '../../../libs/queue';
import { PROCESS_INBOUND_QUEUE } from '../inbound.service';
import type { InboundPayload, ProcessInboundJobData } from '../inbound.service';

/** Tries per event (pg-boss retries the job until then); the last failure marks it failed. */
export const INBOUND_MAX_ATTEMPTS = 5;

interface EventRow {
  id: string;
  source_id: string;
  event_id: string;
  status: string;
  payload: InboundPayload;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * received → processing (committed, visible) → the handler and `processed` in one transaction.
 * The second transaction locks the row and proceeds only while it is still `processing`, so a
 * duplicate job (redrive, pg-boss redelivery) never publishes twice. The handler only writes
 * domain events in that transaction: feature code (sessions) reacts to them, webhooks never
 * touches calls.
 */
@Injectable()
export class ProcessInboundJob {
  private readonly logger = new Logger('WebhooksInbound');

  constructor(
    private readonly tenant: TenantContext,
    private readonly events: EventPublisher,
  ) {}

  @JobHandler(PROCESS_INBOUND_QUEUE, {
    queue: { retryLimit: INBOUND_MAX_ATTEMPTS - 1, retryDelay: 2, retryBackoff: true, expireInSeconds: 300 },
    workers: 2,
  })
  async handle(data: ProcessInboundJobData, job: JobContext): Promise<void> {
    const claimed = await this.tenant.run(data.org_id, () => this.claim(data.id));
    if (!claimed) return;
    try {
      await this.tenant.run(data.org_id, () => this.process(data.id));
    } catch (err) {
      const lastTry = job.retryCount >= INBOUND_MAX_ATTEMPTS - 1;
      const failed = await this.tenant.run(data.org_id, () => this.recordFailure(data.id, err as Error, lastTry));
      this.logger.warn(
        { org_id: data.org_id, id: data.id, attempt: job.retryCount + 1, failed },
        `inbound webhook processing failed: ${(err as Error).message}`,
      );
      if (!failed) throw err;
    }
  }

  /** False when the row is gone, processed or failed already (a duplicate job). */
  private async claim(id: string): Promise<boolean> {
    const rows = await returningRows(
      this.tenant.manager,
      `UPDATE processed_webhook_events SET status = 'processing', attempts = attempts + 1
       WHERE id = $1 AND status IN ('received', 'processing') RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  private async process(id: string): Promise<void> {
    const m = this.tenant.manager;
    const [row] = (await m.query(
      `SELECT id, source_id, event_id, status, payload FROM processed_webhook_events WHERE id = $1 FOR UPDATE`,
      [id],
    )) as EventRow[];
    if (!row || row.status !== 'processing') return;
    await this.dispatch(row);
    await m.query(
      `UPDATE processed_webhook_events SET status = 'processed', processed_at = now(), last_error = NULL WHERE id = $1`,
      [id],
    );
  }

  private async dispatch(row: EventRow): Promise<void> {
    const { manager, orgId } = this.tenant;
    const p = row.payload;
    if (p.provider === 'twilio') {
      const callSid = first(p.params.CallSid);
      const callStatus = first(p.params.CallStatus);
      if (callSid && callStatus) {
        const sequence = first(p.params.SequenceNumber);
        await this.events.publishWith(manager, orgId, 'telephony.call.status', {
          call_sid: callSid,
          call_status: callStatus,
          from: first(p.params.From) ?? null,
          to: first(p.params.To) ?? null,
          ...(sequence !== undefined && /^\d+$/.test(sequence) ? { sequence_number: Number(sequence) } : {}),
        });
        return;
      }
    }
    await this.events.publishWith(manager, orgId, 'webhook.inbound.received', {
      source_id: row.source_id,
      event_id: row.event_id,
      ...(p.provider === 'standard' && p.type ? { type: p.type } : {}),
    });
  }

  /** Returns true when the event is now `failed` (no more tries). */
  private async recordFailure(id: string, err: Error, lastTry: boolean): Promise<boolean> {
    const rows = await returningRows<{ status: string }>(
      this.tenant.manager,
      `UPDATE processed_webhook_events
       SET status = CASE WHEN attempts >= $2 OR $3 THEN 'failed' ELSE status END, last_error = left($4, 2000)
       WHERE id = $1 AND status = 'processing' RETURNING status`,
      [id, INBOUND_MAX_ATTEMPTS, lastTry, err.message],
    );
    return rows[0]?.status === 'failed';
  }
}
