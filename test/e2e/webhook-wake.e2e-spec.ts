import { TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { createTestDatabase, createTestHttpApp, createTestOrg, sql, waitFor } from '../support';
import type { TestDatabase, TestHttpApp } from '../support';
import { Receiver } from './fixtures/webhook-receiver';

/**
 * With a long polling interval, an event still reaches its endpoint at once: the relay wakes
 * this process' idle fan-out loops, and the fan-out its idle delivery loops, as soon as their
 * jobs are committed (without that, each hop waited out QUEUE_POLL_INTERVAL_SECONDS).
 */
describe('webhook deliveries do not wait out the polling interval', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOKS_ALLOW_HTTP: 'true', QUEUE_POLL_INTERVAL_SECONDS: '20' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await new Promise((resolve) => receiver.server?.close(resolve));
  });

  it('an event published while every loop is idle is delivered well within one polling interval', async () => {
    const org = await createTestOrg(t.app, 'Wake');
    const res = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: receiver.url('wake'), event_types: ['payroll.run.completed'] });
    expect(res.status).toBe(201);
    // Let every fetch loop find its queue empty and start its 20 s wait.
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    await t.app.get(TenantContext).run(org.id, () => t.app.get(EventPublisher).publish('payroll.run.completed', {}));
    await waitFor(() => receiver.count('wake') >= 1, 15_000);
    const ms = Date.now() - started;
    process.stdout.write(`webhook-wake: delivered ${ms} ms after the event committed (polling interval 20 s)\n`);
    expect(ms).toBeLessThan(5000);
  });

  it('a burst of events committed together travels as one fan-out job, and each is delivered once', async () => {
    const org = await createTestOrg(t.app, 'Burst');
    const res = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: receiver.url('burst'), event_types: ['payroll.run.completed'] });
    expect(res.status).toBe(201);
    await t.app.get(TenantContext).run(org.id, async () => {
      for (let i = 0; i < 50; i++) await t.app.get(EventPublisher).publish('payroll.run.completed', { seq: i });
    });
    await waitFor(() => receiver.count('burst') >= 50, 15_000);
    const jobs = await sql<{ events: number }>(
      db.superuser,
      `SELECT coalesce(jsonb_array_length(data->'events'), 1) AS events FROM pgboss.job
       WHERE name = 'event.all.DeliveryFanout.onEvent' AND (data->'events'->0->>'org_id' = $1 OR data->>'org_id' = $1)`,
      [org.id],
    );
    expect(jobs.map((j) => j.events)).toEqual([50]);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.count('burst')).toBe(50);
    const seqs = receiver.hits.get('burst')!.map((h) => (JSON.parse(h.body) as { data: { seq: number } }).data.seq);
    expect(new Set(seqs).size).toBe(50);
  });
});
