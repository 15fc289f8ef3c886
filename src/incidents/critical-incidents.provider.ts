import { Global, Injectable, Module } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { CRITICAL_INCIDENTS } from '../../libs/health';
import type { CriticalIncidentProvider } from '../../libs/health';

/**
 * The answer payroll's health gate asks for: open capacity incidents of severity SEV1 or SEV2
 * (a capacity rule at its critical level, or an operator's declaration). While one is open no
 * new run starts; once it resolves (or is cancelled), runs start again.
 */
@Injectable()
export class OpenCriticalIncidents implements CriticalIncidentProvider {
  constructor(private readonly db: DatabaseService) {}

  async openCriticalIncidents(): Promise<string[]> {
    const rows = (await this.db.system.query(
      `SELECT id, severity, title FROM incidents
       WHERE status IN ('triage', 'active', 'mitigated') AND category = 'capacity' AND severity IN ('SEV1', 'SEV2')
       ORDER BY opened_at LIMIT 5`,
    )) as { id: string; severity: string; title: string }[];
    return rows.map((r) => `${r.severity} ${r.title} [${r.id}]`);
  }
}

/** Global, so any feature's optional CRITICAL_INCIDENTS injection finds it. */
@Global()
@Module({
  providers: [OpenCriticalIncidents, { provide: CRITICAL_INCIDENTS, useExisting: OpenCriticalIncidents }],
  exports: [CRITICAL_INCIDENTS],
})
export class CriticalIncidentsModule {}
