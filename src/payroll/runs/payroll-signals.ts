import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../../libs/database';

/** A value of a signal for one org. */
export interface OrgValue {
  orgId: string;
  value: number;
}

/**
 * Payroll's health signals, measured across orgs (system connection; only counts and ages
 * leave, no tenant data): what the incidents feature evaluates and what an incident's impact
 * shows per org.
 */
@Injectable()
export class PayrollSignals {
  constructor(private readonly db: DatabaseService) {}

  /** Runs that failed (out of attempts) in the last hour, per org. */
  async failedRunsLastHour(): Promise<OrgValue[]> {
    return this.perOrg(
      `SELECT org_id, count(*)::float8 AS value FROM payroll_runs
       WHERE status = 'failed' AND finished_at > now() - interval '1 hour' GROUP BY org_id`,
    );
  }

  /** Age in seconds of each org's oldest queued run. */
  async oldestQueuedSeconds(): Promise<OrgValue[]> {
    return this.perOrg(
      `SELECT org_id, extract(epoch FROM now() - min(queued_at))::float8 AS value FROM payroll_runs
       WHERE status = 'queued' GROUP BY org_id`,
    );
  }

  /** Runs waiting (queued or paused) per org: what a dispatch problem delays. */
  async waitingRuns(): Promise<OrgValue[]> {
    return this.perOrg(
      `SELECT org_id, count(*)::float8 AS value FROM payroll_runs WHERE status IN ('queued', 'paused') GROUP BY org_id`,
    );
  }

  private async perOrg(sql: string): Promise<OrgValue[]> {
    const rows = (await this.db.system.query(sql)) as { org_id: string; value: number }[];
    return rows.map((r) => ({ orgId: r.org_id, value: Number(r.value) }));
  }
}
