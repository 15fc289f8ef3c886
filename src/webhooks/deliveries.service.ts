import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { AuditService } from '../../libs/audit';
import { auditActor } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { returningRows, TenantContext } from '../../libs/database';
import { newestFirstPage, ProblemException } from '../../libs/http';
import { DeliveryWorker } from './delivery-worker.service';
import type {
  DeliveryAcceptedDto,
  DeliveryAttemptDto,
  DeliveryDetailDto,
  DeliveryDto,
  DeliveryListQueryDto,
  DeliveryPageDto,
  RecoverAcceptedDto,
  RecoverDeliveriesDto,
} from './dto/delivery.dto';
import { WebhookDelivery, WebhookDeliveryAttempt } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';

/** One recover call re-enqueues at most this many; call again for the rest. */
export const RECOVER_LIMIT = 10_000;
const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function toDeliveryDto(d: WebhookDelivery): DeliveryDto {
  return {
    id: d.id,
    endpoint_id: d.endpointId,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt.toISOString(),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    succeeded_at: iso(d.succeededAt),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

function toAttemptDto(a: WebhookDeliveryAttempt): DeliveryAttemptDto {
  return {
    attempt: a.attempt,
    at: a.at.toISOString(),
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    error_class: a.errorClass,
    response_body: a.responseBody,
  };
}

/** The delivery log and replay: read the attempts, send one delivery again, recover a failed range. */
@Injectable()
export class DeliveriesService {
  private readonly logger = new Logger('WebhookDeliveries');

  constructor(
    private readonly tenant: TenantContext,
    private readonly worker: DeliveryWorker,
    private readonly audit: AuditService,
  ) {}

  async list(query: DeliveryListQueryDto): Promise<DeliveryPageDto> {
    const limit = query.limit ?? 50;
    const qb = this.tenant
      .repo(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.org_id = :org', { org: this.tenant.orgId });
    if (query.endpoint_id) qb.andWhere('d.endpoint_id = :endpoint', { endpoint: query.endpoint_id });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.event_type) qb.andWhere('d.event_type = :type', { type: query.event_type });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor: query.cursor });
    return {
      items: page.map(toDeliveryDto),
      next_cursor,
    };
  }

  async get(id: string): Promise<DeliveryDetailDto> {
    const d = await this.find(id);
    const attempts = await this.tenant
      .repo(WebhookDeliveryAttempt)
      .find({ where: { deliveryId: id }, order: { attempt: 'ASC' } });
    return { ...toDeliveryDto(d), payload: d.payload, attempt_log: attempts.map(toAttemptDto) };
  }

  /** Sends the delivery again now (any state but in flight); its attempts keep counting. */
  async redeliver(principal: Principal, id: string, requestId?: string): Promise<DeliveryAcceptedDto> {
    const d = await this.find(id, true);
    if (d.status === 'delivering') {
      throw new ProblemException(409, 'The delivery is being attempted right now; try again when it has finished.');
    }
    await this.usableEndpoint(d.endpointId);
    await this.tenant.manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), succeeded_at = NULL,
         updated_at = now() WHERE id = $1`,
      [id],
    );
    await this.audit.record({
      action: 'webhook.delivery.redelivered',
      ...auditActor(principal),
      targetType: 'webhook_delivery',
      targetId: id,
      data: { endpoint_id: d.endpointId, event_id: d.eventId, previous_status: d.status },
      requestId,
    });
    this.enqueueAfterCommit([id]);
    return { id, status: 'pending' };
  }

  /** Sends the endpoint's failed deliveries created in [since, until) back to the queue. */
  async recover(
    principal: Principal,
    endpointId: string,
    dto: RecoverDeliveriesDto,
    requestId?: string,
  ): Promise<RecoverAcceptedDto> {
    const since = new Date(dto.since);
    const until = dto.until ? new Date(dto.until) : new Date();
    if (since >= until) {
      throw new ProblemException(400, 'since must be before until.', {
        errors: [{ field: 'since', message: 'must be before until' }],
      });
    }
    await this.usableEndpoint(endpointId, true);
    const rows = await returningRows<{ id: string }>(
      this.tenant.manager,
      `WITH picked AS (
         SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'failed'
           AND created_at >= $2 AND created_at < $3 ORDER BY created_at LIMIT ${RECOVER_LIMIT} FOR UPDATE)
       UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), updated_at = now()
       FROM picked WHERE d.id = picked.id RETURNING d.id`,
      [endpointId, since, until],
    );
    const ids = rows.map((r) => r.id);
    await this.audit.record({
      action: 'webhook.deliveries.recovered',
      ...auditActor(principal),
      targetType: 'webhook_endpoint',
      targetId: endpointId,
      data: { since: since.toISOString(), until: until.toISOString(), requeued: ids.length },
      requestId,
    });
    this.enqueueAfterCommit(ids);
    return { requeued: ids.length };
  }

  /** Jobs go out after the commit; if that fails, the redrive cron sends them within ~90 s. */
  private enqueueAfterCommit(ids: string[]): void {
    if (!ids.length) return;
    const orgId = this.tenant.orgId;
    this.tenant.onCommit(() => {
      this.worker
        .enqueueMany(orgId, ids)
        .catch((err: Error) => this.logger.warn(`deliveries not enqueued (the redrive will): ${err.message}`));
    });
  }

  private async usableEndpoint(id: string, forUpdate = false): Promise<WebhookEndpoint> {
    const e = await this.tenant
      .repo(WebhookEndpoint)
      .findOne({ where: { id }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!e || e.deletedAt) throw new NotFoundException('No such webhook endpoint.');
    if (!e.enabled) {
      throw new ProblemException(
        409,
        `The endpoint is disabled (${e.disabledReason ?? 'by request'}); enable it first.`,
      );
    }
    return e;
  }

  /** Unknown ids and other orgs' deliveries (hidden by row-level security) are the same 404. */
  private async find(id: string, forUpdate = false): Promise<WebhookDelivery> {
    const d = await this.tenant
      .repo(WebhookDelivery)
      .findOne({ where: { id }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!d) throw new NotFoundException('No such webhook delivery.');
    return d;
  }
}
