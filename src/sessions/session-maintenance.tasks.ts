import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskResult } from '../../libs/tasks';
import { SessionReadiness } from './session-readiness.service';
import { SessionSweeper, SweepFailedError } from './session-sweeper.service';

@Injectable()
export class SessionMaintenanceTasks {
  constructor(
    private readonly sweeper: SessionSweeper,
    private readonly readiness: SessionReadiness,
    private readonly db: DatabaseService,
  ) {}

  @MaintenanceTask('session-cleanup', 'Run the session sweeper once across all orgs; prints what it fixed.')
  async cleanup(): Promise<TaskResult> {
    await this.db.whenConnected();
    try {
      return { ok: true, output: await this.sweeper.sweep() };
    } catch (err) {
      if (!(err instanceof SweepFailedError)) throw err;
      return { ok: false, output: { ...err.counts, failures: err.failures } };
    }
  }

  @MaintenanceTask(
    'sessions-readiness',
    'Report session schema and stuck states across all orgs; exit 0 only when READY.',
  )
  async readinessReport(): Promise<TaskResult> {
    const report = await this.readiness.report();
    return { ok: report.status === 'READY', output: report };
  }
}
