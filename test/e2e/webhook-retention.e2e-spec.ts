import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { ClusterCronService } from '../../libs/queue';
import { createTestDatabase, createTestWorker, runApp, sql, TestDatabase, waitFor } from '../support';

/** Old and new rows on both sides of the default policies (72 h dedup, 7 d log), as superuser. */
async function seed(url: string, oldDedupRows = 1): Promise<{ sourceId: string; deliveryId: string }> {
  const org = randomUUID();
  const [{ id: sourceId }] = await sql<{ id: string }>(
    url,
    `INSERT INTO webhook_sources (org_id, provider, name, secret_ciphertext) VALUES ($1, 'standard', 's', 'x') RETURNING id`,
    [org],
  );
  await sql(
    url,
    `INSERT INTO processed_webhook_events (org_id, source_id, event_id, status, payload, received_at)
     SELECT $1, $2, 'old-' || i, 'processed', '{}', now() - interval '73 hours' FROM generate_series(1, $3) i`,
    [org, sourceId, oldDedupRows],
  );
  await sql(
    url,
    `INSERT INTO processed_webhook_events (org_id, source_id, event_id, status, payload, received_at)
     VALUES ($1, $2, 'new', 'processed', '{}', now() - interval '71 hours')`,
    [org, sourceId],
  );
  const [{ id: endpointId }] = await sql<{ id: string }>(
    url,
    `INSERT INTO webhook_endpoints (org_id, url, event_types, secret_ciphertext)
     VALUES ($1, 'https://example.com/hook', '{*}', 'any text') RETURNING id`,
    [org],
  );
  const [{ id: deliveryId }] = await sql<{ id: string }>(
    url,
    `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload)
     VALUES ($1, $2, gen_random_uuid(), 'webhook.test', '{}') RETURNING id`,
    [org, endpointId],
  );
  await sql(
    url,
    `INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, at, latency_ms)
     VALUES ($1, $2, 1, now() - interval '8 days', 10), ($1, $2, 2, now() - interval '6 days', 10)`,
    [org, deliveryId],
  );
  return { sourceId, deliveryId };
}

async function remaining(url: string, s: { sourceId: string; deliveryId: string }) {
  const events = await sql<{ event_id: string }>(
    url,
    `SELECT event_id FROM processed_webhook_events WHERE source_id = $1 ORDER BY event_id`,
    [s.sourceId],
  );
  const log = await sql<{ attempt: number }>(
    url,
    `SELECT attempt FROM webhook_delivery_log WHERE delivery_id = $1 ORDER BY attempt`,
    [s.deliveryId],
  );
  return { events: events.map((e) => e.event_id), log: log.map((l) => l.attempt) };
}

describe('webhook retention', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('task webhooks-retention deletes only rows past policy, in batches, and prints counts', async () => {
    // More old rows than one batch (5,000), so the loop runs several statements.
    const seeded = await seed(db.superuser, 12_001);
    const env = { DATABASE_URL: db.runtime, DATABASE_ADMIN_URL: db.admin, DATABASE_SYSTEM_URL: db.system };
    const res = await runApp(['task', 'webhooks-retention'], env);
    expect(res.code).toBe(0);
    const line = res.output.split('\n').find((l) => l.startsWith('{"processed_webhook_events"'));
    expect(line && JSON.parse(line)).toEqual({ processed_webhook_events: 12_001, webhook_delivery_log: 1 });
    expect(await remaining(db.superuser, seeded)).toEqual({ events: ['new'], log: [2] });

    const again = await runApp(['task', 'webhooks-retention'], env);
    expect(again.code).toBe(0);
    expect(again.output).toContain('{"processed_webhook_events":0,"webhook_delivery_log":0}');
  });

  it('the 04:00 cron runs once per tick with two workers', async () => {
    const seeded = await seed(db.superuser);
    const workers: INestApplicationContext[] = await Promise.all([createTestWorker({ db }), createTestWorker({ db })]);
    try {
      const tick = new Date('2030-01-01T04:00:00Z');
      const won = await Promise.all(workers.map((w) => w.get(ClusterCronService).fire('webhooks.retention', tick)));
      expect(won.filter(Boolean)).toHaveLength(1);
      await waitFor(async () => {
        const [job] = await sql<{ state: string }>(
          db.system,
          `SELECT state FROM pgboss.job WHERE name = 'cron.webhooks.retention'`,
        );
        return job?.state === 'completed';
      }, 15000);
      const jobs = await sql<{ tick: string }>(
        db.system,
        `SELECT data->>'tick_at' AS tick FROM pgboss.job WHERE name = 'cron.webhooks.retention'`,
      );
      expect(jobs).toEqual([{ tick: tick.toISOString() }]);
      expect(await remaining(db.superuser, seeded)).toEqual({ events: ['new'], log: [2] });
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});
