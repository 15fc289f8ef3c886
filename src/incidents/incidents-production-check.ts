import { Injectable, OnModuleInit } from '@nestjs/common';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { DatabaseService } from '../../libs/database';
import { OPEN_STATUSES } from './entities/incident.entity';

/** Open incidents in the readiness report: any open SEV1 or SEV2 fails it. */
@Injectable()
export class IncidentsProductionCheck implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly db: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'no_open_sev1_sev2',
      title: 'No SEV1 or SEV2 incident is open.',
      remedy:
        'Work the incident (GET /api/ops/incidents): mitigate, resolve, or cancel it if it was declared by mistake.',
      run: () => this.run(),
    });
  }

  private async run(): Promise<CheckOutcome> {
    const rows = (await this.db.system.query(
      `SELECT id, severity, status, title, opened_at FROM incidents
       WHERE status = ANY($1) ORDER BY severity, opened_at`,
      [OPEN_STATUSES],
    )) as { id: string; severity: string; status: string; title: string; opened_at: Date }[];
    const severe = rows.filter((r) => r.severity === 'SEV1' || r.severity === 'SEV2');
    const bySeverity: Record<string, number> = {};
    for (const r of rows) bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + 1;
    return {
      verdict: severe.length ? 'fail' : 'pass',
      evidence: {
        open_by_severity: bySeverity,
        sev1_sev2: severe.slice(0, 10).map((r) => ({
          id: r.id,
          severity: r.severity,
          status: r.status,
          title: r.title,
          opened_at: r.opened_at,
        })),
      },
    };
  }
}
