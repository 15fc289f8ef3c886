import { Inject, Injectable, Logger, BeforeApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { APP_ROLE, AppConfig, runsJobs } from '../config';
import type { AppRole } from '../config';
import { retryWithBackoff, RetryAbortedError, withTimeout } from '../resilience';
import { ConsumerOptions, QueueConsumer } from './queue-consumer';
import { QUEUE_SCHEMA } from './queue-schema';

export type QueueState = 'starting' | 'started' | 'stopping' | 'stopped';

/**
 * The process' pg-boss instance, on the system connection (queues cross tenants). Starts in
 * the background with backoff; `send` waits briefly for it rather than failing a request
 * during a database blip.
 */
@Injectable()
export class QueueService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Queue');
  private instance?: PgBoss;
  private starting?: Promise<PgBoss>;
  private readonly abort = new AbortController();
  private readonly consumers: QueueConsumer[] = [];
  private lastError?: string;
  state: QueueState = 'stopped';

  constructor(
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  get boss(): PgBoss {
    if (!this.instance || this.state !== 'started') {
      throw new ServiceUnavailableException('The queue is not running yet.');
    }
    return this.instance;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  /** Starts pg-boss, retrying until the database and its schema are there. */
  start(): Promise<PgBoss> {
    this.starting ??= this.startWithRetry();
    return this.starting;
  }

  private async startWithRetry(): Promise<PgBoss> {
    this.state = 'starting';
    const url = this.config.sessionUrl;
    if (!url) throw new Error('DATABASE_URL is not set');
    try {
      const boss = await retryWithBackoff(
        async () => {
          const candidate = new PgBoss({
            connectionString: url,
            schema: QUEUE_SCHEMA,
            application_name: `calmops:queue:${this.role}`,
            max: Math.max(2, Math.ceil(this.config.get('DATABASE_POOL_SIZE') / 2)),
            migrate: false,
            // Expiry and retention maintenance run where jobs run.
            supervise: runsJobs(this.role),
            maintenanceIntervalSeconds: this.config.get('QUEUE_MAINTENANCE_INTERVAL_SECONDS'),
            schedule: false,
          });
          candidate.on('error', (err: Error) => {
            this.lastError = err.message;
            this.logger.warn(`pg-boss: ${err.message}`);
          });
          try {
            await candidate.start();
          } catch (err) {
            await candidate.stop({ graceful: false, wait: true }).catch(() => undefined);
            throw err;
          }
          // Shutdown began while it was starting: nobody will stop it later, so stop it now.
          if (this.abort.signal.aborted) {
            await candidate.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
            throw new RetryAbortedError('the queue started after shutdown began');
          }
          return candidate;
        },
        {
          attempts: Infinity,
          baseMs: 250,
          capMs: 10_000,
          jitter: 0.2,
          signal: this.abort.signal,
          onRetry: (err, attempt, delay) => {
            this.lastError = (err as Error).message;
            this.logger.warn(`queue not started (attempt ${attempt}): ${(err as Error).message}; retry in ${delay} ms`);
          },
        },
      );
      this.instance = boss;
      this.state = 'started';
      this.lastError = undefined;
      return boss;
    } catch (err) {
      this.state = 'stopped';
      if (!(err instanceof RetryAbortedError)) this.lastError = (err as Error).message;
      throw err;
    }
  }

  /** Sends a job once the queue is running (waits up to `waitMs`, then 503). */
  async send(queue: string, data: object, options: PgBoss.SendOptions = {}, waitMs = 5000): Promise<string | null> {
    if (this.state !== 'started') {
      await withTimeout(this.start(), waitMs, 'the queue').catch(() => {
        throw new ServiceUnavailableException('The queue is not running.');
      });
    }
    const id = await this.boss.send(queue, data, options);
    if (options.startAfter === undefined) this.wake(queue, 1);
    return id;
  }

  /**
   * Inserts jobs (in the caller's transaction when `db` is given), refusing when one of their
   * queues does not exist: pg-boss silently drops jobs for a missing queue (a worker still
   * creating its queues, a subscriber new in this release), and a caller that goes on to mark its
   * work done would lose them. Throwing rolls the caller's transaction back, so it is retried.
   */
  async insertAll(jobs: PgBoss.JobInsert[], options: PgBoss.InsertOptions = {}): Promise<void> {
    if (!jobs.length) return;
    const db = options.db ?? this.boss.getDb();
    const names = [...new Set(jobs.map((j) => j.name))];
    const { rows } = (await db.executeSql(`SELECT name FROM ${QUEUE_SCHEMA}.queue WHERE name = ANY($1::text[])`, [
      names,
    ])) as { rows: { name: string }[] };
    const missing = names.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length) throw new Error(`jobs not inserted: queue ${missing.join(', ')} does not exist yet`);
    await this.boss.insert(jobs, options);
  }

  /**
   * Jobs were just made due on `queue` (committed): up to `jobs` of this process' idle fetch
   * loops of it fetch now instead of at the end of their polling wait. Loops of other
   * processes still find them at their next poll.
   */
  wake(queue: string, jobs: number): void {
    let left = jobs;
    for (const consumer of this.consumers) {
      if (left <= 0) return;
      if (consumer.queue !== queue || !consumer.waiting) continue;
      consumer.wake();
      left--;
    }
  }

  /** Starts a fetch loop on a queue (worker roles); it stops with the application. */
  consume(options: ConsumerOptions): QueueConsumer {
    const consumer = new QueueConsumer(this.boss, options);
    // Attaching can finish after shutdown began: such a loop is never started.
    if (this.abort.signal.aborted) return consumer;
    this.consumers.push(consumer);
    consumer.start();
    return consumer;
  }

  /**
   * Graceful stop: no new fetches; the jobs in hand get until SHUTDOWN_TIMEOUT_MS (the rest of
   * their batch is failed, so pg-boss retries it elsewhere). Returns once every fetch loop has
   * returned and pg-boss has closed its pool: nothing of the queue runs after this.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    const timeout = this.config.get('SHUTDOWN_TIMEOUT_MS');
    await Promise.all(this.consumers.map((c) => c.stop(timeout)));
    this.consumers.length = 0;
    // A start still in flight (a slow database at boot) settles first, and stops what it
    // started: a pg-boss pool left open would meet the database going away after this.
    if (!this.instance && this.starting) {
      await withTimeout(this.starting, timeout, 'the queue start').catch(() => undefined);
    }
    const boss = this.instance;
    if (!boss) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    // Our loops are gone and pg-boss runs none of its own (`work()` is never called), so
    // there is nothing left for a graceful pg-boss stop to wait for.
    await boss
      .stop({ graceful: false, wait: true, close: true })
      .catch((err) => this.logger.warn(`pg-boss stop: ${(err as Error).message}`));
    this.state = 'stopped';
  }
}
