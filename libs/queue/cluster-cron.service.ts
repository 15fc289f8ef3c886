import { Injectable, Logger, BeforeApplicationShutdown } from '@nestjs/common';
import { parseExpression } from 'cron-parser';
import { DatabaseService } from '../database';
import { MetricsService } from '../observability';
import { LifecycleService } from '../core';
import type { CronSchedule } from './cluster-cron.decorator';
import { QueueService } from './queue.service';
import { transactionExecutor } from './transaction-executor';

/** The first tick strictly after `now`. */
export function nextTick(schedule: CronSchedule, now: Date): Date {
  if ('everyMs' in schedule) {
    const period = schedule.everyMs;
    return new Date((Math.floor(now.getTime() / period) + 1) * period);
  }
  return parseExpression(schedule.cron, { currentDate: now, tz: 'UTC' }).next().toDate();
}

/**
 * Local timers in every worker replica race to insert (name, tick) into `cluster_cron_ticks`;
 * the insert that succeeds enqueues the tick's job in the same transaction. A tick therefore
 * fires exactly once however many replicas run, and is not lost if the winner dies right
 * after claiming it.
 */
@Injectable()
export class ClusterCronService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('ClusterCron');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly firing = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly attempts;

  constructor(
    private readonly db: DatabaseService,
    private readonly queue: QueueService,
    private readonly lifecycle: LifecycleService,
    metrics: MetricsService,
  ) {
    this.attempts = metrics.counter(
      'cluster_cron_ticks_total',
      'Cluster cron ticks this process raced for, by job name and result (won: it enqueued the tick; lost: another replica had).',
      ['name', 'result'],
    );
  }

  static queueName(name: string): string {
    return `cron.${name}`;
  }

  start(name: string, schedule: CronSchedule): void {
    if (this.stopped) return;
    const tick = nextTick(schedule, new Date());
    const timer = setTimeout(
      () => {
        const firing = this.fire(name, tick)
          .catch((err) => this.logger.warn(`${name} tick ${tick.toISOString()}: ${(err as Error).message}`))
          .finally(() => {
            this.firing.delete(firing);
            this.start(name, schedule);
          });
        this.firing.add(firing);
      },
      Math.max(0, tick.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.set(name, timer);
  }

  /** Returns true when this process won the tick and enqueued it. */
  async fire(name: string, tick: Date): Promise<boolean> {
    if (this.lifecycle.shuttingDown) return false;
    const won = await this.claim(name, tick);
    this.attempts.inc({ name, result: won ? 'won' : 'lost' });
    return won;
  }

  private claim(name: string, tick: Date): Promise<boolean> {
    return this.db.system.transaction(async (manager) => {
      const won = (await manager.query(
        `INSERT INTO cluster_cron_ticks (name, tick_at, fired_by) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING name`,
        [name, tick, this.lifecycle.instanceId],
      )) as unknown[];
      if (!won.length) return false;
      await this.queue.boss.send(
        ClusterCronService.queueName(name),
        { tick_at: tick.toISOString() },
        { db: transactionExecutor(manager) },
      );
      // Claims older than a day only matter as a short audit trail.
      await manager.query(`DELETE FROM cluster_cron_ticks WHERE name = $1 AND tick_at < now() - interval '1 day'`, [
        name,
      ]);
      return true;
    });
  }

  /** No new timers; a tick being claimed right now finishes first (it may enqueue its job). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.firing);
  }
}
