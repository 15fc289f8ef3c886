import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../libs/database';
import { OnDomainEvent } from '../../libs/events';
import type { DomainEvent } from '../../libs/events';
import { DeliveryWorker } from './delivery-worker.service';
import { isWebhookEventType, matchesEventType } from './event-types';

/** Fan-out loops per worker process, and events each fetches at once (handled one by one). */
const FANOUT_WORKERS = 4;
const FANOUT_BATCH = 10;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns each committed domain event of a public type into one delivery per subscribed
 * endpoint of its org, then enqueues their jobs in one insert. Idempotent: (endpoint, event)
 * is unique, and a repeated run (the job is retried if it dies between commit and enqueue)
 * re-sends the jobs of deliveries not tried yet; a duplicate job finds its delivery claimed
 * or done and does nothing.
 */
@Injectable()
export class DeliveryFanout {
  constructor(
    private readonly tenant: TenantContext,
    private readonly worker: DeliveryWorker,
  ) {}

  @OnDomainEvent('*', { workers: FANOUT_WORKERS, batchSize: FANOUT_BATCH })
  async onEvent(event: DomainEvent): Promise<void> {
    if (!isWebhookEventType(event.type)) return;
    const ids = await this.tenant.run(event.org_id, () => this.createDeliveries(event));
    // After the commit (the job tables belong to the queue's role).
    await this.worker.enqueueMany(event.org_id, ids);
  }

  private async createDeliveries(event: DomainEvent): Promise<string[]> {
    const m = this.tenant.manager;
    const target = event.data?.target_endpoint_id;
    // A test event goes to the one endpoint it names (whatever it subscribes to), and only there.
    if (target !== undefined && (typeof target !== 'string' || !UUID.test(target))) return [];
    if (event.type === 'webhook.test' && target === undefined) return [];
    const endpoints = (await m.query(
      `SELECT id, event_types FROM webhook_endpoints
       WHERE enabled AND deleted_at IS NULL AND ($1::uuid IS NULL OR id = $1::uuid)`,
      [target ?? null],
    )) as { id: string; event_types: string[] }[];
    const chosen = endpoints.filter((e) => target !== undefined || matchesEventType(e.event_types, event.type));
    if (!chosen.length) return [];
    const envelope = {
      id: event.id,
      type: event.type,
      created_at: event.created_at,
      org_id: event.org_id,
      data: event.data,
    };
    await m.query(
      `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
       SELECT $1, endpoint_id, $3, $4, $5::jsonb FROM unnest($2::uuid[]) AS endpoint_id
       ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      [event.org_id, chosen.map((e) => e.id), event.id, event.type, JSON.stringify(envelope)],
    );
    const rows = (await m.query(
      `SELECT id FROM webhook_deliveries
       WHERE endpoint_id = ANY($1::uuid[]) AND event_id = $2 AND status = 'pending' AND attempts = 0`,
      [chosen.map((e) => e.id), event.id],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }
}
