import { Injectable, Logger } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { ClusterCron } from '../../libs/queue';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskResult } from '../../libs/tasks';

/** Health samples are kept this long (postmortems read the series around an incident). */
export const HEALTH_SAMPLE_RETENTION_DAYS = 7;
const BATCH = 5000;

/** Prunes health_samples older than 7 days, daily at 04:10 UTC (after the webhook retention). */
@Injectable()
export class IncidentsRetention {
  private readonly logger = new Logger('IncidentsRetention');

  constructor(private readonly db: DatabaseService) {}

  @ClusterCron('incidents.retention', { cron: '10 4 * * *' })
  async onSchedule(): Promise<{ health_samples: number }> {
    return this.run();
  }

  @MaintenanceTask('incidents-retention', 'Delete health samples older than 7 days; prints the count.')
  async task(): Promise<TaskResult> {
    return { ok: true, output: await this.run() };
  }

  /** Short batches, oldest first by the time index, until one comes back short. */
  async run(): Promise<{ health_samples: number }> {
    await this.db.whenConnected();
    let total = 0;
    for (;;) {
      const [, count] = (await this.db.system.query(
        `DELETE FROM health_samples WHERE id IN (
           SELECT id FROM health_samples WHERE measured_at < now() - make_interval(days => $1)
           ORDER BY measured_at LIMIT $2)`,
        [HEALTH_SAMPLE_RETENTION_DAYS, BATCH],
      )) as [unknown, number];
      total += count;
      if (count < BATCH) break;
    }
    if (total) this.logger.log({ deleted: total }, 'health sample retention deleted old rows');
    return { health_samples: total };
  }
}
