import { Injectable, OnModuleInit } from '@nestjs/common';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { SessionReadiness } from './session-readiness.service';

/** The sessions checklist (schema, migrations, stuck states across all orgs) in the readiness report. */
@Injectable()
export class SessionsProductionCheck implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly readiness: SessionReadiness,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'sessions_clean',
      title: 'Call-center sessions: schema complete and no stuck session or call waiting for the sweeper.',
      remedy:
        'Stuck states: run `task session-cleanup` (or POST /api/cron/session-cleanup per org) and check that the worker runs the sweeper. Schema: run `task migrate`.',
      run: () => this.run(),
    });
  }

  private async run(): Promise<CheckOutcome> {
    const { status, counts, pending_migrations, missing_schema, error } = await this.readiness.report();
    const verdict = status === 'READY' ? 'pass' : status === 'NEEDS_SESSION_CLEANUP' ? 'warn' : 'fail';
    return {
      verdict,
      evidence: { status, counts, pending_migrations, missing_schema, ...(error ? { error } : {}) },
    };
  }
}
