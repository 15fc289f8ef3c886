import { Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { AuditService } from '../../libs/audit';
import { DatabaseService } from '../../libs/database';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskFlags, TaskResult } from '../../libs/tasks';

@Injectable()
export class AuditVerifyTask {
  constructor(
    private readonly audit: AuditService,
    private readonly db: DatabaseService,
  ) {}

  @MaintenanceTask('audit-verify', "Recompute one org's audit hash chain (--org <uuid>); exit 1 if it is broken.")
  async verify(flags: TaskFlags): Promise<TaskResult> {
    const org = flags.org;
    if (typeof org !== 'string' || !isUUID(org)) {
      return { ok: false, output: { ok: false, message: '--org <uuid> is required' } };
    }
    // Tasks do not wait for readiness the way the HTTP roles do; the pools connect in the background.
    await this.db.whenConnected();
    const result = await this.audit.verify(org);
    return { ok: result.ok, output: result };
  }
}
