import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../libs/audit';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { DatabaseService } from '../../libs/database';

const LISTED = 10;

/** The audit log in the readiness report: every org's hash chain recomputed from its first event. */
@Injectable()
export class AuditProductionCheck implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly audit: AuditService,
    private readonly db: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'audit_chain',
      title: "Every org's audit hash chain verifies from its first event to its last.",
      remedy:
        'A broken chain means audit rows were changed or removed outside the application: restore them from a backup, find who had write access to the database (`task audit-verify --org <id>` shows the first broken event).',
      run: () => this.run(),
    });
  }

  private async run(): Promise<CheckOutcome> {
    const orgs = (await this.db.system.query(
      `SELECT o.id AS org_id FROM orgs o WHERE EXISTS (SELECT 1 FROM audit_events a WHERE a.org_id = o.id) ORDER BY o.id`,
    )) as {
      org_id: string;
    }[];
    let events = 0;
    const broken: Record<string, unknown>[] = [];
    for (const { org_id } of orgs) {
      const result = await this.audit.verify(org_id);
      if (result.ok) events += result.count;
      else broken.push({ org_id, ...result });
    }
    return {
      verdict: broken.length ? 'fail' : 'pass',
      evidence: { orgs_verified: orgs.length, events_verified: events, broken: broken.slice(0, LISTED) },
    };
  }
}
