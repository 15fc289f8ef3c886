import { ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../../../libs/audit';
import { auditActor } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { DatabaseService, returningRows, TenantContext } from '../../../libs/database';
import { ProblemException } from '../../../libs/http';
import type { ControlAction, ControlDto } from './dto/run.dto';
import { PayrollRun } from './entities/payroll-run.entity';
import { transition } from './run-transitions';

export interface ControlResult {
  action: ControlAction;
  job_id: string | null;
  status: string | null;
  affected: number;
}

/** Admin control of runs: per org (payroll:admin) and of the whole queue (platform:admin). */
@Injectable()
export class PayrollControlService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly audit: AuditService,
  ) {}

  async apply(principal: Principal, dto: ControlDto, requestId?: string): Promise<ControlResult> {
    if (dto.action === 'pause_all' || dto.action === 'resume_all') {
      if (!principal.scopes.has('platform:admin')) throw new ForbiddenException(`${dto.action} needs platform:admin.`);
      return this.queueWide(principal, dto.action, requestId);
    }
    if (!principal.scopes.has('payroll:admin') || !principal.orgId) {
      throw new ForbiddenException(`${dto.action} needs payroll:admin in the run's org.`);
    }
    if (!dto.job_id) {
      throw new ProblemException(400, `${dto.action} needs job_id.`, {
        errors: [{ field: 'job_id', message: 'required for this action' }],
      });
    }
    const m = this.tenant.manager;
    const run = await m.findOne(PayrollRun, { where: { id: dto.job_id }, lock: { mode: 'pessimistic_write' } });
    if (!run) throw new NotFoundException('No such payroll job.');
    const actor = `${principal.kind}:${principal.subject}`;
    const refuse = () => {
      throw new ConflictException(`Cannot ${dto.action} a run that is ${run.status}.`);
    };
    switch (dto.action) {
      case 'pause':
        if (run.status === 'running')
          await m.update(PayrollRun, { id: run.id }, { pauseRequested: true, pausedReason: 'paused by admin' });
        else if (run.status === 'queued')
          await transition(m, run, 'paused', actor, 'paused by admin', { paused_reason: 'paused by admin' });
        else refuse();
        break;
      case 'resume':
        if (run.status === 'paused')
          await transition(m, run, 'queued', actor, 'resumed by admin', {
            paused_reason: null,
            pause_requested: false,
            next_attempt_at: new Date(),
          });
        else if (run.status === 'running' && run.pauseRequested)
          await m.update(PayrollRun, { id: run.id }, { pauseRequested: false, pausedReason: null });
        else refuse();
        break;
      case 'cancel':
        if (run.status === 'queued' || run.status === 'paused')
          await transition(m, run, 'cancelled', actor, 'cancelled by admin', { finished_at: new Date() });
        else if (run.status === 'running') await m.update(PayrollRun, { id: run.id }, { cancelRequested: true });
        else refuse();
        break;
      case 'retry':
        if (run.status !== 'failed') refuse();
        await transition(m, run, 'queued', actor, 'retried by admin', {
          attempts: 0,
          next_attempt_at: new Date(),
          finished_at: null,
          queued_at: new Date(),
        });
        break;
    }
    await this.audit.record({
      action: `payroll.run.${dto.action}`,
      ...auditActor(principal),
      targetType: 'payroll_run',
      targetId: run.id,
      data: { from_status: run.status },
      requestId,
    });
    const after = await m.findOneByOrFail(PayrollRun, { id: run.id });
    return { action: dto.action, job_id: run.id, status: after.status, affected: 1 };
  }

  /**
   * pause_all stops dispatching and asks running runs to pause at their next checkpoint;
   * resume_all undoes exactly that. Recorded in the audit log of every org it touched.
   */
  private async queueWide(
    principal: Principal,
    action: 'pause_all' | 'resume_all',
    requestId?: string,
  ): Promise<ControlResult> {
    await this.db.whenConnected();
    return this.db.system.transaction(async (m) => {
      const actor = `${principal.kind}:${principal.subject}`;
      let touched: { id: string; org_id: string; status: PayrollRun['status'] }[];
      if (action === 'pause_all') {
        await m.query(
          `UPDATE payroll_control SET paused = true, reason = 'pause_all', changed_at = now() WHERE id = 1`,
        );
        touched = await returningRows<(typeof touched)[number]>(
          m,
          `UPDATE payroll_runs SET pause_requested = true, paused_reason = 'pause_all' WHERE status = 'running' AND NOT pause_requested RETURNING id, org_id, status`,
        );
      } else {
        await m.query(`UPDATE payroll_control SET paused = false, reason = NULL, changed_at = now() WHERE id = 1`);
        touched = await returningRows<(typeof touched)[number]>(
          m,
          `UPDATE payroll_runs SET pause_requested = false, paused_reason = NULL
           WHERE status = 'running' AND paused_reason = 'pause_all' RETURNING id, org_id, status`,
        );
        const paused = (await m.query(
          `SELECT id, org_id, status FROM payroll_runs WHERE status = 'paused' AND paused_reason = 'pause_all' FOR UPDATE`,
        )) as typeof touched;
        for (const r of paused) {
          await transition(m, { id: r.id, orgId: r.org_id, status: r.status }, 'queued', actor, 'resume_all', {
            paused_reason: null,
            next_attempt_at: new Date(),
          });
        }
        touched = [...touched, ...paused];
      }
      const orgs = new Set<string>(
        (
          (await m.query(
            `SELECT DISTINCT org_id FROM payroll_runs WHERE status IN ('queued', 'running', 'paused')`,
          )) as { org_id: string }[]
        ).map((r) => r.org_id),
      );
      for (const r of touched) orgs.add(r.org_id);
      for (const org of orgs) {
        await this.audit.record(
          {
            action: `payroll.queue.${action}`,
            ...auditActor(principal),
            targetType: 'payroll_queue',
            targetId: null,
            data: { affected_runs: touched.filter((r) => r.org_id === org).length },
            requestId,
          },
          m,
          org,
        );
      }
      return { action, job_id: null, status: null, affected: touched.length };
    });
  }
}
