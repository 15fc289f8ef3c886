import { Injectable, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { TenantContext } from '../../libs/database';
import { EventPublisher, EventRelay, OnDomainEvent } from '../../libs/events';
import { EventSubscriptions } from '../../libs/events/event-subscriptions.service';
import type { DomainEvent } from '../../libs/events';
import { MetricsService } from '../../libs/observability';
import { ClusterCron, QueueService } from '../../libs/queue';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestWorker,
  sql,
  TestDatabase,
  TestHttpApp,
  waitFor,
} from '../support';

const received: DomainEvent[] = [];
const ticks: { tick: string; instance: string }[] = [];

@Injectable()
class EventRecorder {
  @OnDomainEvent('test.happened')
  async onHappened(event: DomainEvent): Promise<void> {
    received.push(event);
  }
}

@Injectable()
class TickRecorder {
  readonly instance = randomUUID();

  @ClusterCron('test.tick', { everyMs: 400 })
  async onTick(data: { tick_at: string }): Promise<void> {
    ticks.push({ tick: data.tick_at, instance: this.instance });
  }
}

@Module({ providers: [EventRecorder] })
class EventRecorderModule {}

@Module({ providers: [TickRecorder] })
class TickRecorderModule {}

describe('domain events through the outbox', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', imports: [EventRecorderModule] });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('delivers an event committed with its transaction and never one that was rolled back', async () => {
    const tenant = t.app.get(TenantContext);
    const events = t.app.get(EventPublisher);
    const org = randomUUID();

    const committedId = await tenant.run(org, () => events.publish('test.happened', { n: 1 }));
    await expect(
      tenant.run(org, async () => {
        await events.publish('test.happened', { n: 2 });
        throw new Error('business rule failed after publishing');
      }),
    ).rejects.toThrow('business rule failed');

    await waitFor(() => received.length >= 1);
    // Give a wrongly relayed second event every chance to show up.
    await new Promise((r) => setTimeout(r, 1500));
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ id: committedId, type: 'test.happened', org_id: org, data: { n: 1 } });

    const rows = await sql<{ data: { n: number }; relayed: boolean }>(
      db.superuser,
      `SELECT data, relayed_at IS NOT NULL AS relayed FROM domain_events`,
    );
    expect(rows).toEqual([{ data: { n: 1 }, relayed: true }]);
  });

  it("keeps an event in the outbox while a subscriber's queue does not exist, and relays it once it does", async () => {
    const [queue] = t.app.get(EventSubscriptions).queuesFor('test.happened');
    const boss = t.app.get(QueueService).boss;
    // pg-boss drops jobs for a missing queue without a word: a worker still creating its queues.
    await sql(db.superuser, `DELETE FROM pgboss.job WHERE name = $1`, [queue]);
    await boss.deleteQueue(queue);
    const org = randomUUID();
    const id = await t.app
      .get(TenantContext)
      .run(org, () => t.app.get(EventPublisher).publish('test.happened', { n: 3 }));
    // The background relay may hold the row at the moment (a pass that gets nothing returns 0);
    // a pass that gets it must refuse.
    const refusal = await waitFor(() =>
      t.app
        .get(EventRelay)
        .drain()
        .then(
          () => undefined,
          (err: Error) => err.message,
        ),
    );
    expect(refusal).toMatch(/jobs not inserted: queue .* does not exist yet/);
    const waiting = await sql<{ relayed: boolean }>(
      db.superuser,
      `SELECT relayed_at IS NOT NULL AS relayed FROM domain_events WHERE id = $1`,
      [id],
    );
    expect(waiting).toEqual([{ relayed: false }]);

    await boss.createQueue(queue, {
      name: queue,
      retryLimit: 10,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: 60,
    });
    await waitFor(() => received.some((e) => e.id === id), 10000);
    expect(received.filter((e) => e.id === id)).toHaveLength(1);
  });

  it('keeps the outbox tenant-scoped: the runtime role sees only its org, or nothing without one', async () => {
    const other = randomUUID();
    await t.app.get(TenantContext).run(other, () => t.app.get(EventPublisher).publish('test.other', { x: 1 }));
    expect(await sql(db.runtime, `SELECT * FROM domain_events`)).toHaveLength(0);
    const scoped = await sql(
      db.runtime,
      `WITH ctx AS (SELECT set_config('app.current_org', $1, false)) SELECT e.org_id FROM ctx, domain_events e`,
      [other],
    );
    expect(scoped).toEqual([{ org_id: other }]);
  });
});

describe('cluster cron across two workers', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('fires each tick exactly once', async () => {
    const workers = await Promise.all([
      createTestWorker({ db, imports: [TickRecorderModule] }),
      createTestWorker({ db, imports: [TickRecorderModule] }),
    ]);
    let raced: { won: number; lost: number }[];
    try {
      await waitFor(() => ticks.length >= 8, 20000);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      raced = await Promise.all(
        workers.map(async (w) => {
          const { values } = await w.get(MetricsService).counter('cluster_cron_ticks_total', '').get();
          const n = (result: string) =>
            values.find((v) => v.labels.name === 'test.tick' && v.labels.result === result)?.value ?? 0;
          return { won: n('won'), lost: n('lost') };
        }),
      );
    }
    const perTick = new Map<string, number>();
    for (const { tick } of ticks) perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    expect([...perTick.values()].every((n) => n === 1)).toBe(true);
    const claims = await sql<{ fired_by: string }>(
      db.system,
      `SELECT fired_by FROM cluster_cron_ticks WHERE name = 'test.tick'`,
    );
    // Every handled tick was claimed; a tick claimed just before the workers closed may not
    // have been handled yet (its job waits in the queue), never the other way round.
    const fired = claims.length;
    expect(perTick.size).toBeLessThanOrEqual(fired);
    expect(perTick.size).toBeGreaterThanOrEqual(fired - 1);
    // Both replicas raced for every tick (only the first and last may have seen one alone):
    // each attempted about every tick, and each claimed tick was won by exactly one of them.
    for (const r of raced) expect(r.won + r.lost).toBeGreaterThanOrEqual(fired - 2);
    expect(raced[0].won + raced[1].won).toBe(fired);
    expect(raced[0].lost + raced[1].lost).toBeGreaterThanOrEqual(fired - 2);
    const sorted = [...perTick.keys()].sort();
    for (let i = 1; i < sorted.length; i++) {
      expect(Date.parse(sorted[i]) - Date.parse(sorted[i - 1])).toBeGreaterThanOrEqual(400);
    }
  });
});
