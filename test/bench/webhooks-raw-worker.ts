/**
 * The consumer side of the raw pg-boss reference of `npm run bench:webhooks` (forked by
 * webhooks.bench.ts with an IPC channel; not run by hand). It creates one PgBoss instance like
 * the app's QueueService (same schema, role and pool size; no maintenance, no schedule), calls
 * `work()` on the given queue as often and with the options the app's JobRegistry uses for
 * `webhooks.deliver` (including its immediate re-fetch after a non-empty fetch), with a handler
 * that does nothing but note the time, and reports
 * `[job index, handled at (ms since the epoch)]` pairs to the parent every 50 ms.
 *
 * Input: BENCH_RAW_CONFIG (JSON, see RawWorkerConfig). Messages to the parent: {type: 'ready'},
 * {type: 'done', items: number[]} (flat pairs), {type: 'error', message}. From the parent:
 * {type: 'stop'} stops pg-boss gracefully and exits 0.
 */
import PgBoss from 'pg-boss';
import { nowMs } from './bench-harness';

export interface RawWorkerConfig {
  url: string;
  schema: string;
  queue: string;
  applicationName: string;
  /** pg-boss pool size (the app: max(2, ceil(DATABASE_POOL_SIZE / 2))). */
  max: number;
  /** work() calls (fetch loops) in this process. */
  workers: number;
  batchSize: number;
  pollingIntervalSeconds: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_RAW_CONFIG ?? '') as RawWorkerConfig;
  const send = (m: object) => process.send?.(m);
  const boss = new PgBoss({
    connectionString: cfg.url,
    schema: cfg.schema,
    application_name: cfg.applicationName,
    max: cfg.max,
    migrate: false,
    supervise: false,
    schedule: false,
  });
  boss.on('error', (err: Error) => send({ type: 'error', message: err.message }));
  await boss.start();

  let pending: number[] = [];
  const flush = () => {
    if (!pending.length) return;
    send({ type: 'done', items: pending });
    pending = [];
  };
  const timer = setInterval(flush, 50);
  for (let i = 0; i < cfg.workers; i++) {
    // As the app's JobRegistry does: a fetch that found jobs asks for the next batch at once
    // (pg-boss would otherwise wait out the polling interval after every fetch).
    const worker: { id?: string } = {};
    worker.id = await boss.work<{ i: number }>(
      cfg.queue,
      { includeMetadata: true, batchSize: cfg.batchSize, pollingIntervalSeconds: cfg.pollingIntervalSeconds },
      async (jobs) => {
        const at = nowMs();
        for (const job of jobs) pending.push(job.data.i, at);
        if (jobs.length && worker.id) boss.notifyWorker(worker.id);
      },
    );
  }
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    clearInterval(timer);
    flush();
    void boss
      .stop({ graceful: true, wait: true, close: true, timeout: 5000 })
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
  // The parent is gone (killed): do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

main().catch((err: Error) => {
  process.send?.({ type: 'error', message: `raw worker failed: ${err.message}` });
  process.exit(1);
});
