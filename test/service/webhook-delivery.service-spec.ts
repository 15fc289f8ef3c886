import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.service';
import { EndpointsService } from '../../src/webhooks/endpoints.service';
import { createServiceContext, createTestDatabase, sql, TestDatabase } from '../support';
import { Receiver } from '../e2e/fixtures/webhook-receiver';

/**
 * One delivery attempt at a time, called directly on a real database against a receiver on
 * 127.0.0.1: what each outcome records. Nothing runs in the background (no queue consumer),
 * so each call's effect is all there is to see.
 */
describe('DeliveryWorker (service)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  const receiver = new Receiver();
  const orgId = randomUUID();
  const principal: Principal = { kind: 'api_key', subject: randomUUID(), orgId, scopes: new Set() };

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase();
    app = await createServiceContext({
      db,
      env: {
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '30s,5m',
        WEBHOOK_RETRY_JITTER: '0',
        WEBHOOK_BREAKER_COOLDOWN_SECONDS: '60',
      },
    });
    await sql(db.superuser, `INSERT INTO orgs (id, name, plan) VALUES ($1, 'Delivery Org', 'pro')`, [orgId]);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await new Promise((resolve) => receiver.server?.close(resolve));
  });

  const q = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => sql<T>(db.superuser, text, values);
  const tenant = <T>(work: () => Promise<T>) => app.get(TenantContext).run(orgId, work);

  async function endpoint(name: string, rate?: number): Promise<string> {
    const created = await tenant(() =>
      app.get(EndpointsService).create(principal, {
        url: receiver.url(name),
        event_types: ['*'],
        ...(rate ? { rate_limit_per_second: rate } : {}),
      }),
    );
    receiver.secrets.set(name, [created.secret]);
    return created.id;
  }

  /** A pending delivery of a fresh event to the endpoint, as the fan-out writes it. */
  async function delivery(endpointId: string): Promise<string> {
    const eventId = randomUUID();
    const payload = { id: eventId, type: 'test.event', created_at: new Date().toISOString(), org_id: orgId, data: {} };
    const [row] = await q<{ id: string }>(
      `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
       VALUES ($1, $2, $3, 'test.event', $4::jsonb) RETURNING id`,
      [orgId, endpointId, eventId, JSON.stringify(payload)],
    );
    return row.id;
  }

  const deliver = (id: string) => app.get(DeliveryWorker).deliver(orgId, id);
  const state = async (id: string) =>
    (
      await q<{ status: string; attempts: number; due_in_s: number; last_status_code: number | null }>(
        `SELECT status, attempts, round(extract(epoch FROM next_attempt_at - now()))::int AS due_in_s, last_status_code
         FROM webhook_deliveries WHERE id = $1`,
        [id],
      )
    )[0];
  const log = (id: string) =>
    q<{ attempt: number; status_code: number | null; error_class: string | null }>(
      `SELECT attempt, status_code, error_class FROM webhook_delivery_log WHERE delivery_id = $1 ORDER BY attempt`,
      [id],
    );

  it('a success is sent once, signed, and recorded once', async () => {
    const ep = await endpoint('ok');
    const id = await delivery(ep);
    await deliver(id);
    await deliver(id); // a duplicate job finds it done
    expect(receiver.count('ok')).toBe(1);
    expect(receiver.hits.get('ok')![0].verified).toEqual([true]);
    expect(await state(id)).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
    expect(await log(id)).toEqual([{ attempt: 1, status_code: 200, error_class: null }]);
  });

  it('a 500 schedules the next attempt by the retry schedule', async () => {
    receiver.behaviour.set('flaky', () => 500);
    const id = await delivery(await endpoint('flaky'));
    await deliver(id);
    const s = await state(id);
    expect(s).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 });
    expect(s.due_in_s).toBeGreaterThanOrEqual(29);
    expect(s.due_in_s).toBeLessThanOrEqual(30);
    expect(await log(id)).toEqual([{ attempt: 1, status_code: 500, error_class: 'http_500' }]);
  });

  it('a 410 disables the endpoint and fails the delivery', async () => {
    receiver.behaviour.set('gone', () => 410);
    const ep = await endpoint('gone');
    const id = await delivery(ep);
    await deliver(id);
    expect(await state(id)).toMatchObject({ status: 'failed', last_status_code: 410 });
    const [e] = await q<{ enabled: boolean; disabled_reason: string }>(
      `SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = $1`,
      [ep],
    );
    expect(e).toEqual({ enabled: false, disabled_reason: 'endpoint returned 410 Gone' });
  });

  it('three failures open the breaker: the next delivery is deferred, nothing is sent', async () => {
    receiver.behaviour.set('down', () => 503);
    const ep = await endpoint('down');
    for (let i = 0; i < 3; i++) await deliver(await delivery(ep));
    const [b] = await q<{ breaker_state: string }>(`SELECT breaker_state FROM webhook_endpoints WHERE id = $1`, [ep]);
    expect(b.breaker_state).toBe('open');
    const sent = receiver.count('down');
    const deferred = await delivery(ep);
    await deliver(deferred);
    expect(receiver.count('down')).toBe(sent);
    const s = await state(deferred);
    expect(s).toMatchObject({ status: 'deferred', attempts: 0 });
    expect(s.due_in_s).toBeGreaterThan(50);
  });

  it('a rate-limited endpoint hands out send slots 1/rate apart', async () => {
    const ep = await endpoint('paced', 2);
    const ids = [await delivery(ep), await delivery(ep), await delivery(ep)];
    for (const id of ids) await deliver(id);
    const slots = await q<{ slot: Date | null; status: string }>(
      `SELECT rate_slot_at AS slot, status FROM webhook_deliveries WHERE id = ANY($1::uuid[]) ORDER BY rate_slot_at NULLS FIRST`,
      [ids],
    );
    // The first went at once; the others wait for their slots, 500 ms apart.
    expect(slots[0]).toMatchObject({ slot: null, status: 'succeeded' });
    expect(slots.slice(1).map((s) => s.status)).toEqual(['pending', 'pending']);
    expect(slots[2].slot!.getTime() - slots[1].slot!.getTime()).toBe(500);
    expect(receiver.count('paced')).toBe(1);
  });

  it('a batch: the common case is claimed, sent and recorded together; a 500, a paced and an open-breaker delivery each as alone', async () => {
    receiver.behaviour.set('batch-bad', () => 500);
    const good = await endpoint('batch-good');
    const bad = await endpoint('batch-bad');
    const paced = await endpoint('batch-paced', 2);
    const broken = await endpoint('batch-broken');
    await q(`UPDATE webhook_endpoints SET breaker_state = 'open', breaker_opened_at = now() WHERE id = $1`, [broken]);
    const goods = await Promise.all(Array.from({ length: 20 }, () => delivery(good)));
    const bads = [await delivery(bad), await delivery(bad)];
    const paceds = [await delivery(paced), await delivery(paced)];
    const deferred = await delivery(broken);
    const all = [...goods, bads[0], ...paceds, deferred, bads[1]];
    await app.get(DeliveryWorker).deliverMany(orgId, [...all, goods[0]], 'job-1'); // a repeated id is one delivery
    await app.get(DeliveryWorker).deliverMany(orgId, all, 'job-2'); // a duplicate job finds them claimed or done

    expect(receiver.count('batch-good')).toBe(20);
    expect(receiver.hits.get('batch-good')!.every((h) => h.verified[0])).toBe(true);
    for (const id of goods) {
      expect(await state(id)).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
      expect(await log(id)).toEqual([{ attempt: 1, status_code: 200, error_class: null }]);
    }
    for (const id of bads) {
      expect(await state(id)).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 });
      expect(await log(id)).toEqual([{ attempt: 1, status_code: 500, error_class: 'http_500' }]);
    }
    // Paced: the first went at once, the second took the next slot, 500 ms later by the database's
    // clock. The duplicate job may reach it after that on a slow machine and send it then; what
    // must hold either way is that the receiver got exactly the succeeded ones, the first at once.
    const pacedStates = await Promise.all(paceds.map(state));
    const pacedSent = pacedStates.filter((x) => x.status === 'succeeded').length;
    expect(pacedSent).toBeGreaterThanOrEqual(1);
    expect(receiver.count('batch-paced')).toBe(pacedSent);
    expect(pacedStates.filter((x) => x.status !== 'succeeded').map((x) => x.status)).toEqual(
      pacedSent === 2 ? [] : ['pending'],
    );
    expect(await state(deferred)).toMatchObject({ status: 'deferred', attempts: 0 });
    expect(receiver.count('batch-broken')).toBe(0);
    const [e] = await q<{ last_success_at: Date | null; breaker_failures: number }>(
      `SELECT last_success_at, breaker_failures FROM webhook_endpoints WHERE id = $1`,
      [good],
    );
    expect(e.last_success_at).not.toBeNull();
  });
});
