import { Inject, Injectable } from '@nestjs/common';
import { APP_ROLE, appVersion } from '../../libs/config';
import type { AppRole } from '../../libs/config';
import { LifecycleService, ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome, ProductionCheck } from '../../libs/core';
import { withTimeout } from '../../libs/resilience';
import type { ReadinessCheckDto, ReadinessReportDto, ReportVerdict } from './dto/readiness.dto';

/** The report lists checks in this order (the order an operator reads them in); others follow by id. */
const ORDER = [
  'migrations',
  'rls',
  'workers',
  'queues',
  'no_open_sev1_sev2',
  'breakers_closed',
  'sessions_clean',
  'webhook_endpoints_healthy',
  'secrets',
  'swagger',
  'cors',
  'rate_limits',
  'resources',
  'audit_chain',
  'backups',
  'node_runtime',
];
/** A check that takes longer than this fails with the timeout as its evidence. */
export const CHECK_TIMEOUT_MS = 20_000;

const rank = (id: string) => (ORDER.includes(id) ? ORDER.indexOf(id) : ORDER.length);

/**
 * The production-readiness report: every registered check run now, each with its verdict,
 * evidence and remedy. A check that throws or times out fails with the error as evidence, so a
 * database that is down turns the report NOT_READY rather than hiding checks.
 */
@Injectable()
export class ReadinessReportService {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly lifecycle: LifecycleService,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  async report(): Promise<ReadinessReportDto> {
    const started = performance.now();
    const checks = [...this.registry.all()].sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
    const results = await Promise.all(checks.map((c) => this.run(c)));
    const counts = { pass: 0, warn: 0, fail: 0 };
    for (const r of results) counts[r.verdict] += 1;
    const verdict: ReportVerdict = counts.fail ? 'NOT_READY' : counts.warn ? 'NEEDS_ATTENTION' : 'READY';
    return {
      verdict,
      generated_at: new Date().toISOString(),
      duration_ms: Math.round(performance.now() - started),
      counts,
      checks: results,
      computed_by: {
        role: this.role,
        instance_id: this.lifecycle.instanceId,
        version: appVersion(),
      },
    };
  }

  private async run(check: ProductionCheck): Promise<ReadinessCheckDto> {
    const started = performance.now();
    let outcome: CheckOutcome;
    try {
      outcome = await withTimeout(check.run(), CHECK_TIMEOUT_MS, `the ${check.id} check`);
    } catch (err) {
      outcome = { verdict: 'fail', evidence: { error: (err as Error).message } };
    }
    return {
      id: check.id,
      title: check.title,
      verdict: outcome.verdict,
      evidence: outcome.evidence,
      remedy: outcome.remedy ?? check.remedy,
      duration_ms: Math.round(performance.now() - started),
    };
  }
}
