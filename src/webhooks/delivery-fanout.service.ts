import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../libs/database';
import { OnDomainEvent } from '../../libs/events';
import type { DomainEvent } from '../../libs/events';
import { DeliveryWorker } from './delivery-worker.service';
import { isWebhookEventType, matchesEventType } from './event-types';

/**
 * Fan-out loops per worker process, and jobs each fetches (and fans out) at once; the relay puts
 * up to 200 events in one job, so one call handles up to 800 events.
 */
const FANOUT_WORKERS = 4;
const FANOUT_BATCH = 4;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns committed domain events of public types into one delivery per subscribed endpoint of
 * their org, a relayed batch at a time: per org, one transaction reads its endpoints once and
 * writes all the batch's deliveries in one statement; then their jobs are enqueued in one
 * insert. Idempotent: (endpoint, event) is unique, and a repeated run (the job is retried if
 * it dies between commit and enqueue) re-sends the jobs of deliveries not tried yet; a
 * duplicate job finds its delivery claimed or done and does nothing.
 */
@Injectable()
export class DeliveryFanout {
  constructor(
    private readonly tenant: TenantContext,
    private readonly worker: DeliveryWorker,
  ) {}

  // The method keeps its name: it names the queue (event.all.DeliveryFanout.onEvent).
  @OnDomainEvent('*', { workers: FANOUT_WORKERS, batchSize: FANOUT_BATCH, batched: true })
  async onEvent(events: DomainEvent[]): Promise<void> {
    const byOrg = new Map<string, DomainEvent[]>();
    for (const e of events) {
      if (!isWebhookEventType(e.type)) continue;
      const orgEvents = byOrg.get(e.org_id);
      if (orgEvents) orgEvents.push(e);
      else byOrg.set(e.org_id, [e]);
    }
    for (const [orgId, orgEvents] of byOrg) {
      const ids = await this.tenant.run(orgId, () => this.createDeliveries(orgEvents));
      // After the commit (the job tables belong to the queue's role).
      await this.worker.enqueueMany(orgId, ids);
    }
  }

  private async createDeliveries(events: DomainEvent[]): Promise<string[]> {
    const m = this.tenant.manager;
    const endpoints = (await m.query(
      `SELECT id, event_types FROM webhook_endpoints WHERE enabled AND deleted_at IS NULL ORDER BY id`,
    )) as { id: string; event_types: string[] }[];
    const pairs: { endpointId: string; event: DomainEvent }[] = [];
    for (const event of events) {
      for (const endpointId of chooseEndpoints(event, endpoints)) pairs.push({ endpointId, event });
    }
    if (!pairs.length) return [];
    const envelope = (event: DomainEvent) =>
      JSON.stringify({
        id: event.id,
        type: event.type,
        created_at: event.created_at,
        org_id: event.org_id,
        data: event.data,
      });
    await m.query(
      `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
       SELECT $1, x.endpoint_id, x.event_id, x.event_type, x.payload::jsonb
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS x(endpoint_id, event_id, event_type, payload)
       ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      [
        this.tenant.orgId,
        pairs.map((p) => p.endpointId),
        pairs.map((p) => p.event.id),
        pairs.map((p) => p.event.type),
        pairs.map((p) => envelope(p.event)),
      ],
    );
    const rows = (await m.query(
      `SELECT d.id FROM webhook_deliveries d
       JOIN unnest($1::uuid[], $2::uuid[]) AS x(endpoint_id, event_id)
         ON d.endpoint_id = x.endpoint_id AND d.event_id = x.event_id
       WHERE d.status = 'pending' AND d.attempts = 0`,
      [pairs.map((p) => p.endpointId), pairs.map((p) => p.event.id)],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }
}

/**
 * The endpoints an event goes to: those subscribed to its type; a test event (or any event
 * naming `target_endpoint_id`) to the one endpoint it names, whatever it subscribes to, and
 * only there.
 */
function chooseEndpoints(event: DomainEvent, endpoints: { id: string; event_types: string[] }[]): string[] {
  const target = event.data?.target_endpoint_id;
  if (target !== undefined) {
    if (typeof target !== 'string' || !UUID.test(target)) return [];
    return endpoints.filter((e) => e.id.toLowerCase() === target.toLowerCase()).map((e) => e.id);
  }
  if (event.type === 'webhook.test') return [];
  return endpoints.filter((e) => matchesEventType(e.event_types, event.type)).map((e) => e.id);
}
