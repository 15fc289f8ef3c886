import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type PgBoss from 'pg-boss';
import type { JobOutcome } from './queue-consumer';
import { APP_ROLE, AppConfig, runsJobs } from '../config';
import type { AppRole } from '../config';
import { findDecoratedMethods } from '../discovery';
import { MetricsService } from '../observability';
import { retryWithBackoff, RetryAbortedError } from '../resilience';
import { CLUSTER_CRON, ClusterCronMetadata, CronSchedule } from './cluster-cron.decorator';
import { ClusterCronService } from './cluster-cron.service';
import { BatchHandlerFn, JOB_HANDLER, JobHandlerFn, JobHandlerMetadata, QueueOptions } from './job-handler.decorator';
import { QueueService } from './queue.service';

interface Registration {
  queueName: string;
  options: QueueOptions;
  handler: JobHandlerFn;
  batchHandler?: BatchHandlerFn;
}

/**
 * Finds every `@JobHandler` and `@ClusterCron` method. Queues are created in every role (so the
 * api can send); handlers are attached to pg-boss and cron timers started only in worker roles.
 * Other libraries (events) add registrations before bootstrap through `add()`.
 */
@Injectable()
export class JobRegistry implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');
  private readonly registrations = new Map<string, Registration>();
  private readonly crons: { name: string; schedule: CronSchedule }[] = [];
  private attached?: Promise<void>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly queue: QueueService,
    private readonly metrics: MetricsService,
    private readonly cron: ClusterCronService,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  add(queueName: string, options: QueueOptions, handler: JobHandlerFn, batchHandler?: BatchHandlerFn): void {
    if (this.registrations.has(queueName)) throw new Error(`queue ${queueName} is declared twice`);
    this.registrations.set(queueName, { queueName, options, handler, batchHandler });
  }

  get queueNames(): string[] {
    return [...this.registrations.keys()];
  }

  onApplicationBootstrap(): void {
    this.discover();
    if (this.role === 'task') return;
    this.attached = this.queue.start().then((boss) => this.attach(boss));
    this.attached.catch((err) => {
      // Shutting down before the queue started is not an error.
      if (!(err instanceof RetryAbortedError)) this.logger.error(`queues not attached: ${(err as Error).message}`);
    });
  }

  /** Resolves once every queue exists (and, in worker roles, its handler is consuming). */
  async whenAttached(): Promise<void> {
    await this.attached;
  }

  private discover(): void {
    const find = <T>(key: symbol) => findDecoratedMethods<T>(this.discovery, this.scanner, this.reflector, key);
    for (const { meta: job, call } of find<JobHandlerMetadata>(JOB_HANDLER)) this.add(job.queueName, job, call);
    for (const { meta: cron, call } of find<ClusterCronMetadata>(CLUSTER_CRON)) {
      const schedule = typeof cron.schedule === 'function' ? cron.schedule(this.config) : cron.schedule;
      this.add(ClusterCronService.queueName(cron.name), { queue: { retryLimit: 2, expireInSeconds: 900 } }, call);
      this.crons.push({ name: cron.name, schedule });
    }
  }

  private async attach(boss: PgBoss): Promise<void> {
    const existing = new Set((await boss.getQueues()).map((q) => q.name));
    for (const r of this.registrations.values()) {
      const options = { name: r.queueName, ...r.options.queue };
      if (existing.has(r.queueName)) {
        await boss.updateQueue(r.queueName, options);
        continue;
      }
      // Replicas starting together race to create the same queue (pg-boss 10 creates a
      // partition per queue and can deadlock); the loser retries and finds it created.
      await retryWithBackoff(
        async () => {
          if (await boss.getQueue(r.queueName)) return;
          await boss.createQueue(r.queueName, options);
        },
        { attempts: 8, baseMs: 50, capMs: 2000, jitter: 0.5 },
      );
    }
    if (!runsJobs(this.role)) return;
    const pollMs = this.config.get('QUEUE_POLL_INTERVAL_SECONDS') * 1000;
    for (const r of this.registrations.values()) {
      for (let i = 0; i < (r.options.workers ?? 1); i++) {
        this.queue.consume({
          queue: r.queueName,
          handler: r.handler,
          batchHandler: r.batchHandler,
          batchSize: r.options.batchSize ?? 1,
          pollMs,
          onSettled: (result, seconds, job, err) => this.settled(r.queueName, result, seconds, job.id, err),
          onError: (err) => this.logger.warn({ queue: r.queueName, err }, `queue ${r.queueName}: ${err.message}`),
        });
      }
    }
    for (const c of this.crons) this.cron.start(c.name, c.schedule);
    this.logger.log(`consuming ${this.registrations.size} queues, ${this.crons.length} cluster cron jobs`);
  }

  /** Metrics and logs per job, whatever the rest of its batch did. */
  private settled(queue: string, result: JobOutcome, seconds: number, jobId: string, err?: Error): void {
    this.metrics.queueJobs.inc({ queue, result });
    this.metrics.queueJobDuration.observe({ queue, result }, seconds);
    if (err) this.logger.warn({ job_id: jobId, queue, err }, `job failed: ${err.message}`);
  }
}
