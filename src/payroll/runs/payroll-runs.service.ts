import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AuditService } from '../../../libs/audit';
import { auditActor } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { AppConfig } from '../../../libs/config';
import { DatabaseService, inSavepoint, TenantContext } from '../../../libs/database';
import { idempotencyKeyError, newestFirstPage, ProblemException } from '../../../libs/http';
import type { QueueStatusDto, RunDto, RunPageDto, StartRunDto } from './dto/run.dto';
import { LIVE_STATUSES, PayrollRun, RunStatus } from './entities/payroll-run.entity';
import { recordRunEvent } from './run-transitions';
import { daysBetween, isCalendarDate, toRunDto } from './run-view';

export interface EnqueueResult {
  created: boolean;
  run: RunDto;
}

function uniqueViolation(err: unknown, constraint: string): boolean {
  const driverError = (err as QueryFailedError & { driverError?: { code?: string; constraint?: string } }).driverError;
  return err instanceof QueryFailedError && driverError?.code === '23505' && driverError.constraint === constraint;
}

/** Requesting runs and reading them back (within the caller's org). */
@Injectable()
export class PayrollRunsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async enqueue(
    principal: Principal,
    dto: StartRunDto,
    idempotencyKey?: string,
    requestId?: string,
  ): Promise<EnqueueResult> {
    const { pay_period_start: start, pay_period_end: end } = dto;
    const errors = [];
    if (!isCalendarDate(start)) errors.push({ field: 'pay_period_start', message: 'not a calendar date' });
    if (!isCalendarDate(end)) errors.push({ field: 'pay_period_end', message: 'not a calendar date' });
    if (!errors.length && daysBetween(start, end) < 0)
      errors.push({ field: 'pay_period_end', message: 'must not be before pay_period_start' });
    if (!errors.length && daysBetween(start, end) > 30)
      errors.push({ field: 'pay_period_end', message: 'a pay period is at most 31 days' });
    const keyError = idempotencyKeyError(idempotencyKey);
    if (keyError) errors.push(keyError);
    if (errors.length) throw new ProblemException(400, 'The pay period is invalid.', { errors });

    const repo = this.tenant.repo(PayrollRun);
    if (idempotencyKey) {
      const same = await repo.findOneBy({ idempotencyKey });
      if (same) return { created: true, run: await this.view(same) };
    }
    const live = await repo.findOne({
      where: LIVE_STATUSES.map((status) => ({ payPeriodStart: start, payPeriodEnd: end, status })),
    });
    if (live) return { created: false, run: await this.view(live) };
    const done = await repo.findOne({
      where: [
        { payPeriodStart: start, payPeriodEnd: end, status: 'completed' },
        { payPeriodStart: start, payPeriodEnd: end, status: 'completed_with_flags' },
      ],
    });
    if (done && !dto.replace) {
      throw new ConflictException(
        `The period ${start}..${end} already has a completed run (${done.id}); send replace: true to run it again.`,
      );
    }
    // Only the insert can lose a race to a concurrent request; a savepoint undoes it alone so
    // the winner can be read. What follows is ordinary work whose errors surface as they are.
    let run: PayrollRun;
    try {
      run = await inSavepoint(this.tenant.manager, () =>
        repo.save(
          repo.create({
            orgId: this.tenant.orgId,
            payPeriodStart: start,
            payPeriodEnd: end,
            idempotencyKey: idempotencyKey ?? null,
          }),
        ),
      );
    } catch (err) {
      if (
        uniqueViolation(err, 'payroll_runs_one_live_per_period') ||
        uniqueViolation(err, 'payroll_runs_idempotency')
      ) {
        const winner = await repo.findOne({
          where: idempotencyKey
            ? { idempotencyKey }
            : LIVE_STATUSES.map((status) => ({ payPeriodStart: start, payPeriodEnd: end, status })),
        });
        if (winner) return { created: false, run: await this.view(winner) };
      }
      throw err;
    }
    await recordRunEvent(this.tenant.manager, { id: run.id, orgId: run.orgId, status: null }, 'queued', {
      actor: `${principal.kind}:${principal.subject}`,
      reason: done ? `replaces ${done.id}` : 'requested',
    });
    await this.audit.record({
      action: 'payroll.run.requested',
      ...auditActor(principal),
      targetType: 'payroll_run',
      targetId: run.id,
      data: { pay_period_start: start, pay_period_end: end, replace: !!dto.replace },
      requestId,
    });
    return { created: true, run: await this.view(await repo.findOneByOrFail({ id: run.id })) };
  }

  async get(id: string): Promise<RunDto> {
    const run = await this.tenant.repo(PayrollRun).findOneBy({ id });
    if (!run) throw new NotFoundException('No such payroll job.');
    return this.view(run);
  }

  async list(limit = 50, cursor?: string, status?: RunStatus): Promise<RunPageDto> {
    const qb = this.tenant.repo(PayrollRun).createQueryBuilder('r');
    if (status) qb.andWhere('r.status = :status', { status });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    const positions = await this.positions(page);
    return {
      items: page.map((r) => toRunDto(r, positions.get(r.id) ?? null)),
      next_cursor,
    };
  }

  async queueStatus(): Promise<QueueStatusDto> {
    await this.db.whenConnected();
    // Counts across orgs reveal no other org's data, only the queue's length.
    const [global] = (await this.db.system.query(
      `SELECT count(*) FILTER (WHERE status = 'running')::int AS running, count(*) FILTER (WHERE status = 'queued')::int AS queued,
              (SELECT paused FROM payroll_control WHERE id = 1) AS paused,
              (SELECT coalesce(CASE WHEN paused THEN coalesce(reason, 'pause_all') END, gate_reason) FROM payroll_control WHERE id = 1) AS reason
       FROM payroll_runs WHERE status IN ('running', 'queued')`,
    )) as { running: number; queued: number; paused: boolean; reason: string | null }[];
    const mine = await this.tenant
      .repo(PayrollRun)
      .find({ where: [{ status: 'running' }, { status: 'queued' }], order: { queuedAt: 'ASC', id: 'ASC' } });
    const positions = await this.positions(mine);
    return {
      max_concurrent: this.config.get('PAYROLL_MAX_CONCURRENT'),
      running_global: global.running,
      queued_global: global.queued,
      paused_all: global.paused,
      paused_reason: global.reason,
      org: {
        running: mine.filter((r) => r.status === 'running').map((r) => r.id),
        queued: mine
          .filter((r) => r.status === 'queued')
          .map((r) => ({ job_id: r.id, position: positions.get(r.id) ?? 0 })),
      },
    };
  }

  private async view(run: PayrollRun): Promise<RunDto> {
    const positions = await this.positions([run]);
    return toRunDto(run, positions.get(run.id) ?? null);
  }

  /**
   * 1-based places in global dispatch order (queued_at, id). Counted on the system connection
   * (it reveals only how many runs are ahead), which also works for a run this request has
   * just inserted and not yet committed.
   */
  private async positions(runs: PayrollRun[]): Promise<Map<string, number>> {
    const queued = runs.filter((r) => r.status === 'queued');
    if (!queued.length) return new Map();
    await this.db.whenConnected();
    const rows = (await this.db.system.query(
      `SELECT x.id, (SELECT count(*) FROM payroll_runs r WHERE r.status = 'queued' AND r.id <> x.id
                       AND (r.queued_at, r.id) < (x.queued_at, x.id))::int + 1 AS position
       FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, queued_at)`,
      [queued.map((r) => r.id), queued.map((r) => r.queuedAt)],
    )) as { id: string; position: number }[];
    return new Map(rows.map((r) => [r.id, r.position]));
  }
}
