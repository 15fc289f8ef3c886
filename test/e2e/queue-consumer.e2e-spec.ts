import { Injectable, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { JobHandler, QueueService } from '../../libs/queue';
import type { JobContext } from '../../libs/queue';
import { MetricsService } from '../../libs/observability';
import { createHook } from 'node:async_hooks';
import { Client } from 'pg';
import { createTestDatabase, createTestWorker, sql, TestDatabase, testConfig, waitFor } from '../support';

/** What each job's handler saw, across every process of this file. */
const runs = new Map<string, number>();
let poisonAttempts = 0;
let handledAfterClose = 0;
let lastRunAt = 0;
let closed = false;

@Injectable()
class BatchJobs {
  /** Batches of 5: job "poison" throws on its first attempt, every other job succeeds. */
  @JobHandler('test.batch', { batchSize: 5, queue: { retryLimit: 3, retryDelay: 1 } })
  async handle(data: { key: string }, job: JobContext): Promise<void> {
    if (closed) handledAfterClose++;
    lastRunAt = Date.now();
    runs.set(data.key, (runs.get(data.key) ?? 0) + 1);
    if (data.key === 'poison' && job.retryCount === 0) {
      poisonAttempts++;
      throw new Error('poisoned on its first attempt');
    }
  }

  /** Several loops of a queue that stays empty: they are mid-fetch or idle when the app closes. */
  @JobHandler('test.idle', { workers: 4, batchSize: 10 })
  async idle(): Promise<void> {
    if (closed) handledAfterClose++;
  }
}

@Module({ providers: [BatchJobs] })
class BatchJobsModule {}

/** The queue's own rows, to see how pg-boss settled each job. */
const jobsOf = (db: TestDatabase, queue: string) =>
  sql<{ key: string; state: string; retry_count: number }>(
    db.superuser,
    `SELECT data->>'key' AS key, state, retry_count FROM pgboss.job WHERE name = $1 ORDER BY data->>'key'`,
    [queue],
  );

/** Connections of the queue (pg-boss pools of every role) to the test database; `waiting`: only those waiting on a lock. */
const queueConnections = async (db: TestDatabase, waiting = false) =>
  (
    await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND application_name LIKE 'calmops:queue:%'
         AND (NOT $1 OR wait_event_type = 'Lock')`,
      [waiting],
    )
  )[0].n;

describe('queue consumers: per-job results, and nothing left running after close', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a failing job in a batch is retried alone; every other job of the batch runs once and completes', async () => {
    const worker = await createTestWorker({
      db,
      imports: [BatchJobsModule],
      env: { QUEUE_POLL_INTERVAL_SECONDS: '0.5' },
    });
    try {
      const queue = worker.get(QueueService);
      const keys = ['a', 'b', 'poison', 'd', 'e'];
      // Sent in one insert so that one fetch takes them as one batch.
      await queue.boss.insert(keys.map((key) => ({ name: 'test.batch', data: { key }, retryLimit: 3, retryDelay: 1 })));
      await waitFor(async () => (await jobsOf(db, 'test.batch')).every((j) => j.state === 'completed'), 30_000);

      expect(Object.fromEntries(runs)).toEqual({ a: 1, b: 1, poison: 2, d: 1, e: 1 });
      expect(poisonAttempts).toBe(1);
      const rows = await jobsOf(db, 'test.batch');
      expect(rows.map((r) => [r.key, r.state, r.retry_count])).toEqual([
        ['a', 'completed', 0],
        ['b', 'completed', 0],
        ['d', 'completed', 0],
        ['e', 'completed', 0],
        ['poison', 'completed', 1],
      ]);
      const metrics = await worker.get(MetricsService).queueJobs.get();
      const count = (result: string) =>
        metrics.values.find((v) => v.labels.queue === 'test.batch' && v.labels.result === result)?.value;
      expect({ completed: count('completed'), failed: count('failed') }).toEqual({ completed: 5, failed: 1 });
    } finally {
      await worker.close();
    }
  });

  it('a batch handler takes a whole fetch at once; when it throws, the jobs run one by one and only the bad one fails', async () => {
    const worker = await createTestWorker({ db, env: { QUEUE_POLL_INTERVAL_SECONDS: '0.5' } });
    try {
      const queue = worker.get(QueueService);
      await queue.boss.createQueue('test.batched', { name: 'test.batched', retryLimit: 3, retryDelay: 1 });
      const batches: string[][] = [];
      const single = new Map<string, number>();
      const settled: string[] = [];
      const consumer = queue.consume({
        queue: 'test.batched',
        batchSize: 5,
        pollMs: 500,
        batchHandler: async (jobs) => {
          const keys = jobs.map((j) => (j.data as { key: string }).key);
          batches.push(keys);
          if (keys.includes('poison')) throw new Error('a poisoned batch');
        },
        handler: async (data, job) => {
          const key = (data as { key: string }).key;
          single.set(key, (single.get(key) ?? 0) + 1);
          if (key === 'poison' && job.retryCount === 0) throw new Error('poisoned on its first attempt');
        },
        onSettled: (outcome, _seconds, job) => settled.push(`${job.id}:${outcome}`),
        onError: () => undefined,
      });
      try {
        const insert = (keys: string[]) =>
          queue.boss.insert(keys.map((key) => ({ name: 'test.batched', data: { key }, retryLimit: 3, retryDelay: 1 })));
        await insert(['x', 'y', 'z']);
        await waitFor(async () => (await jobsOf(db, 'test.batched')).every((j) => j.state === 'completed'), 30_000);
        expect(batches.map((b) => [...b].sort())).toEqual([['x', 'y', 'z']]);
        expect(single.size).toBe(0);

        await insert(['a', 'b', 'poison', 'd', 'e']);
        await waitFor(async () => {
          const rows = await jobsOf(db, 'test.batched');
          return rows.length === 8 && rows.every((j) => j.state === 'completed');
        }, 30_000);
        expect(batches.slice(1).map((b) => [...b].sort())).toEqual([['a', 'b', 'd', 'e', 'poison']]);
        expect(Object.fromEntries(single)).toEqual({ a: 1, b: 1, poison: 2, d: 1, e: 1 });
        const rows = await jobsOf(db, 'test.batched');
        expect(rows.filter((r) => r.retry_count > 0).map((r) => r.key)).toEqual(['poison']);
        expect(settled.filter((s) => s.endsWith(':completed'))).toHaveLength(8);
        expect(settled.filter((s) => s.endsWith(':failed'))).toHaveLength(1);
      } finally {
        await consumer.stop(5000);
      }
    } finally {
      await worker.close();
    }
  });

  it('closing on a loaded event loop while fetches wait in the database: nothing of the queue runs afterwards', async () => {
    // Every timer created from now on, with where it was created; destroyed ones drop out.
    const timers = new Map<number, string>();
    const hook = createHook({
      init: (id, type) => {
        if (type === 'Timeout') timers.set(id, new Error().stack ?? '');
      },
      destroy: (id) => void timers.delete(id),
    }).enable();
    const worker: INestApplicationContext = await createTestWorker({
      db,
      imports: [BatchJobsModule],
      env: { QUEUE_POLL_INTERVAL_SECONDS: '0.5' },
    });
    // Hold the job table so every fetch of every loop waits in the database, with a job
    // inserted under the same lock: it becomes visible the moment the lock goes.
    const blocker = new Client({ connectionString: db.superuser });
    await blocker.connect();
    let closedAt = 0;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE pgboss.job IN ACCESS EXCLUSIVE MODE');
      await blocker.query(`INSERT INTO pgboss.job (name, data) VALUES ('test.batch', '{"key":"late"}')`);
      await waitFor(async () => (await queueConnections(db, true)) >= 2);
      // Load the event loop (busy slices) and close while the fetches are still waiting.
      const load = setInterval(() => {
        const until = Date.now() + 40;
        while (Date.now() < until);
      }, 1);
      const closing = worker.close().then(() => (closedAt = Date.now()));
      await new Promise((r) => setTimeout(r, 300));
      await blocker.query('COMMIT');
      await closing.finally(() => clearInterval(load));
    } finally {
      await blocker.end();
    }
    closed = true;
    const lastRunBeforeClose = lastRunAt;
    expect(closedAt).toBeGreaterThan(0);
    expect(lastRunBeforeClose).toBeLessThanOrEqual(closedAt);
    // Once close() has returned: no connection of the queue, no handler call, no timer of it.
    expect(await queueConnections(db)).toBe(0);
    expect(worker.get(QueueService).state).toBe('stopped');
    await new Promise((r) => setTimeout(r, 1500));
    expect(handledAfterClose).toBe(0);
    expect(await queueConnections(db)).toBe(0);
    hook.disable();
    const queueTimers = [...timers.values()].filter((stack) => /pg-boss|libs[\\/]queue/.test(stack));
    expect(queueTimers).toEqual([]);
  });

  it('shutting down while pg-boss is still starting: the start settles first and what it opened is closed', async () => {
    // A slow database at boot: pg-boss's start reads its schema version and waits on this lock.
    const blocker = new Client({ connectionString: db.superuser });
    await blocker.connect();
    const queue = new QueueService(testConfig(db), 'worker');
    let started: PromiseSettledResult<unknown> | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE pgboss.version IN ACCESS EXCLUSIVE MODE');
      void queue.start().then(
        (value) => (started = { status: 'fulfilled', value }),
        (reason: unknown) => (started = { status: 'rejected', reason }),
      );
      await waitFor(async () => (await queueConnections(db, true)) >= 1);
      expect(queue.state).toBe('starting');
      const stopping = queue.beforeApplicationShutdown();
      await new Promise((r) => setTimeout(r, 300));
      await blocker.query('COMMIT');
      await stopping;
    } finally {
      await blocker.end();
    }
    try {
      // Once shutdown has returned, the start has given up and its pool is closed: nothing of
      // the queue is left to meet the database going away.
      expect(started?.status).toBe('rejected');
      expect(queue.state).toBe('stopped');
      expect(await queueConnections(db)).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      expect(queue.state).toBe('stopped');
      expect(await queueConnections(db)).toBe(0);
    } finally {
      // When this fails, the pg-boss it left running must not hold the test database.
      if (queue.state === 'started') await queue.boss.stop({ graceful: false, wait: true, close: true });
    }
  });
});
