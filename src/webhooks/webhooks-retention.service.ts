import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { ClusterCron } from '../../libs/queue';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskResult } from '../../libs/tasks';

/** Rows per DELETE: each statement is short, so no lock is held for long. */
export const RETENTION_BATCH = 5000;

export interface RetentionCounts {
  processed_webhook_events: number;
  webhook_delivery_log: number;
}

/**
 * Deletes what webhooks keep only for a while, across all orgs (system connection):
 * - `processed_webhook_events` older than WEBHOOK_DEDUP_RETENTION_HOURS (72 by default: Stripe,
 *   the longest-retrying provider we expect, retries for up to 3 days, and a dedup row must
 *   outlive every retry of its event or the retry would be processed again);
 * - `webhook_delivery_log` attempts older than WEBHOOK_LOG_RETENTION_DAYS (7).
 * Deliveries themselves are kept (they are the record of what was sent).
 */
@Injectable()
export class WebhooksRetention {
  private readonly logger = new Logger('WebhooksRetention');

  constructor(
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
  ) {}

  /** 04:00 UTC daily, once across all worker replicas. */
  @ClusterCron('webhooks.retention', { cron: '0 4 * * *' })
  async onSchedule(): Promise<RetentionCounts> {
    return this.run();
  }

  @MaintenanceTask(
    'webhooks-retention',
    'Delete inbound dedup rows and delivery log rows past their retention; prints counts.',
  )
  async task(): Promise<TaskResult> {
    return { ok: true, output: await this.run() };
  }

  async run(): Promise<RetentionCounts> {
    await this.db.whenConnected();
    const counts: RetentionCounts = {
      processed_webhook_events: await this.deleteInBatches(
        'processed_webhook_events',
        'received_at',
        `make_interval(hours => $1)`,
        this.config.get('WEBHOOK_DEDUP_RETENTION_HOURS'),
      ),
      webhook_delivery_log: await this.deleteInBatches(
        'webhook_delivery_log',
        'at',
        `make_interval(days => $1)`,
        this.config.get('WEBHOOK_LOG_RETENTION_DAYS'),
      ),
    };
    if (counts.processed_webhook_events || counts.webhook_delivery_log) {
      this.logger.log({ counts }, 'webhook retention deleted old rows');
    }
    return counts;
  }

  /**
   * One short statement (its own transaction) per batch, oldest first via the time index,
   * until a batch comes back short. The cutoff is fixed at the start, so rows that age past it
   * while the loop runs wait for the next run instead of keeping the loop going.
   */
  private async deleteInBatches(table: string, column: string, interval: string, amount: number): Promise<number> {
    const [{ cutoff }] = (await this.db.system.query(`SELECT now() - ${interval} AS cutoff`, [amount])) as {
      cutoff: Date;
    }[];
    let total = 0;
    for (;;) {
      // TypeORM answers DELETE with [rows, count].
      const [, count] = (await this.db.system.query(
        `DELETE FROM ${table} WHERE id IN (
           SELECT id FROM ${table} WHERE ${column} < $1 ORDER BY ${column} LIMIT ${RETENTION_BATCH})`,
        [cutoff],
      )) as [unknown[], number];
      total += count;
      if (count < RETENTION_BATCH) return total;
    }
  }
}
