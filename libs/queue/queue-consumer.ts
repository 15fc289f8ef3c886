import type PgBoss from 'pg-boss';
import { withTimeout } from '../resilience';
import type { BatchHandlerFn, JobContext, JobHandlerFn } from './job-handler.decorator';

export type JobOutcome = 'completed' | 'failed';

export interface ConsumerOptions {
  queue: string;
  handler: JobHandlerFn;
  /**
   * Handles a whole fetched batch at once when set; if it throws, the batch's jobs are then
   * run one by one through `handler` (so one bad job fails alone, as without it).
   */
  batchHandler?: BatchHandlerFn;
  batchSize: number;
  /** How long an empty fetch waits before the next one (a wake() cuts it short). */
  pollMs: number;
  /** Called once per job, whatever its batch did. */
  onSettled: (outcome: JobOutcome, seconds: number, job: JobContext, err?: Error) => void;
  onError: (err: Error) => void;
}

/** The subset of pg-boss a consumer uses (fetch and per-job settlement). */
export type ConsumerBoss = Pick<PgBoss, 'fetch' | 'complete' | 'fail'>;

/**
 * One fetch loop of one queue, owned by us rather than by pg-boss' `work()`: fetch a batch,
 * run its jobs one by one, settle each by itself (complete the ones that succeeded, fail the
 * ones that threw — a failing job never re-runs or fails its neighbours), fetch again at once
 * after a non-empty batch, and wait `pollMs` on an abortable timer after an empty one.
 * `stop()` returns only when the loop has returned and its timer is gone: nothing of it runs
 * after that.
 */
export class QueueConsumer {
  private stopping = false;
  private abandoned = false;
  private running?: Promise<void>;
  private idleTimer?: NodeJS.Timeout;
  private idleResolve?: () => void;
  /** Jobs of the batch in hand: not yet run, and run but not yet marked completed. */
  private current: string[] = [];
  private completed: string[] = [];

  constructor(
    private readonly boss: ConsumerBoss,
    private readonly options: ConsumerOptions,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  get queue(): string {
    return this.options.queue;
  }

  /** Waiting out its polling interval after an empty fetch. */
  get waiting(): boolean {
    return this.idleResolve !== undefined;
  }

  /** Ends an idle wait now, so the next fetch happens at once. */
  wake(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const resolve = this.idleResolve;
    this.idleResolve = undefined;
    resolve?.();
  }

  /**
   * No new fetch; the job in hand may finish within `timeoutMs`. Past that, the jobs of the
   * batch that did not finish are failed (pg-boss retries them) and the loop is abandoned.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.running.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (!timedOut) return;
    this.abandoned = true;
    await this.completeDone();
    const unfinished = this.current;
    this.current = [];
    for (const id of unfinished) {
      await this.boss
        .fail(this.options.queue, id, { message: 'the worker shut down while the job ran' })
        .catch((err: Error) => this.options.onError(err));
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let jobs: PgBoss.JobWithMetadata<object>[] = [];
      try {
        jobs = (await this.boss.fetch<object>(this.options.queue, {
          batchSize: this.options.batchSize,
          includeMetadata: true,
        })) as PgBoss.JobWithMetadata<object>[];
      } catch (err) {
        this.options.onError(err as Error);
      }
      if (jobs?.length) await this.settle(jobs);
      // pg-boss' fetch returns [] on a database error too, so an empty fetch always waits.
      else if (!this.stopping) await this.idle(this.options.pollMs);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleResolve = resolve;
      this.idleTimer = setTimeout(() => this.wake(), ms);
      this.idleTimer.unref();
    });
  }

  private async settle(jobs: PgBoss.JobWithMetadata<object>[]): Promise<void> {
    this.current = jobs.map((j) => j.id);
    if (this.options.batchHandler && jobs.length > 1 && (await this.runBatch(jobs))) return;
    for (const job of jobs) {
      if (this.abandoned) return;
      const context: JobContext = { id: job.id, queue: this.options.queue, retryCount: job.retryCount };
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        // As pg-boss would: a handler gets until the job's expiry, then counts as failed.
        await withTimeout(
          Promise.resolve().then(() => this.options.handler(job.data, context)),
          job.expireInSeconds * 1000,
          `job ${job.id} of ${this.options.queue}`,
        );
        this.completed.push(job.id);
        this.options.onSettled('completed', seconds(), context);
      } catch (err) {
        this.options.onSettled('failed', seconds(), context, err as Error);
        if (this.abandoned) return;
        await this.boss
          .fail(this.options.queue, job.id, { message: (err as Error).message, name: (err as Error).name })
          .catch((e: Error) => this.options.onError(e));
      }
      this.current = this.current.filter((id) => id !== job.id);
    }
    if (!this.abandoned) await this.completeDone();
    this.current = [];
  }

  /** The batch handler over all of `jobs`: true when it succeeded (and every job is completed). */
  private async runBatch(jobs: PgBoss.JobWithMetadata<object>[]): Promise<boolean> {
    const contexts = jobs.map((job) => ({
      data: job.data as unknown,
      job: { id: job.id, queue: this.options.queue, retryCount: job.retryCount } as JobContext,
    }));
    const started = process.hrtime.bigint();
    try {
      await withTimeout(
        Promise.resolve().then(() => this.options.batchHandler!(contexts)),
        Math.min(...jobs.map((j) => j.expireInSeconds)) * 1000,
        `batch of ${jobs.length} jobs of ${this.options.queue}`,
      );
    } catch (err) {
      this.options.onError(new Error(`batch failed, running its jobs one by one: ${(err as Error).message}`));
      return false;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const c of contexts) this.options.onSettled('completed', seconds / jobs.length, c.job);
    this.completed.push(...contexts.map((c) => c.job.id));
    this.current = [];
    if (!this.abandoned) await this.completeDone();
    return true;
  }

  /** One statement marks every job of the batch that succeeded. */
  private async completeDone(): Promise<void> {
    const done = this.completed;
    this.completed = [];
    if (!done.length) return;
    await this.boss.complete(this.options.queue, done).catch((err: Error) => this.options.onError(err));
  }
}
