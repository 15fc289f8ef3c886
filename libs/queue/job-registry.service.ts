import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type PgBoss from 'pg-boss';
import { APP_ROLE, AppConfig, runsJobs } from '../config';
import type { AppRole } from '../config';
import { findDecoratedMethods } from '../discovery';
import { MetricsService } from '../observability';
import { retryWithBackoff } from '../resilience';
import { CLUSTER_CRON, ClusterCronMetadata, CronSchedule } from './cluster-cron.decorator';
import { ClusterCronService } from './cluster-cron.service';
import { JOB_HANDLER, JobContext, JobHandlerFn, JobHandlerMetadata, QueueOptions } from './job-handler.decorator';
import { QueueService } from './queue.service';

interface Registration {
  queueName: string;
  options: QueueOptions;
  handler: JobHandlerFn;
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

  add(queueName: string, options: QueueOptions, handler: JobHandlerFn): void {
    if (this.registrations.has(queueName)) throw new Error(`queue ${queueName} is declared twice`);
    this.registrations.set(queueName, { queueName, options, handler });
  }

  get queueNames(): string[] {
    return [...this.registrations.keys()];
  }

  onApplicationBootstrap(): void {
    this.discover();
    if (this.role === 'task') return;
    this.attached = this.queue.start().then((boss) => this.attach(boss));
    this.attached.catch((err) => this.logger.error(`queues not attached: ${(err as Error).message}`));
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
    for (const r of this.registrations.values()) {
      const workers = r.options.workers ?? 1;
      for (let i = 0; i < workers; i++) {
        const worker: { id?: string } = {};
        worker.id = await boss.work(
          r.queueName,
          {
            includeMetadata: true,
            batchSize: r.options.batchSize ?? 1,
            pollingIntervalSeconds: this.config.get('QUEUE_POLL_INTERVAL_SECONDS'),
          },
          async (jobs: PgBoss.JobWithMetadata<object>[]) => {
            try {
              await this.run(r, jobs);
            } finally {
              // pg-boss waits out the polling interval after every fetch, even one that found
              // jobs, which caps a loop at batchSize jobs per interval. A fetch that found work
              // asks for the next batch at once; only an empty fetch waits.
              if (jobs.length && worker.id) boss.notifyWorker(worker.id);
            }
          },
        );
      }
    }
    for (const c of this.crons) this.cron.start(c.name, c.schedule);
    this.logger.log(`consuming ${this.registrations.size} queues, ${this.crons.length} cluster cron jobs`);
  }

  private async run(r: Registration, jobs: PgBoss.JobWithMetadata<object>[]): Promise<void> {
    for (const job of jobs) {
      const context: JobContext = { id: job.id, queue: r.queueName, retryCount: job.retryCount };
      const labels = { queue: r.queueName };
      const started = process.hrtime.bigint();
      const observe = (result: string) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.queueJobs.inc({ ...labels, result });
        this.metrics.queueJobDuration.observe({ ...labels, result }, seconds);
      };
      try {
        await r.handler(job.data, context);
        observe('completed');
      } catch (err) {
        observe('failed');
        this.logger.warn({ job_id: job.id, queue: r.queueName, err }, `job failed: ${(err as Error).message}`);
        throw err;
      }
    }
  }
}
