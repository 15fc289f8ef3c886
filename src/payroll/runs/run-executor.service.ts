import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../../libs/config';
import { DatabaseService, TenantContext } from '../../../libs/database';
import { EventPublisher } from '../../../libs/events';
import { LifecycleService } from '../../../libs/core';
import { backoffDelay } from '../../../libs/resilience';
import type { DriverInput, PayLine, TicketInput } from '../calculator';
import { PayrollRun } from './entities/payroll-run.entity';
import type { RunWarning } from './entities/payroll-run.entity';
import { PayrollHealthGates } from './health-gates.service';
import { PayrollCalculator } from './payroll-calculator.service';
import { releaseStaleSlots } from './payroll-slots';
import { RunFinalizer } from './run-finalizer';
import { LeaseLostError, transition } from './run-transitions';

type Step = 'continue' | 'stopped' | 'done';
const SYSTEM = 'system:payroll-worker';

interface TicketRow {
  id: string;
  ticket_number: string;
  driver_id: string;
  work_date: string;
  hours: string | null;
  tons: string | null;
  yards: string | null;
  loads: string | null;
  revenue_cents: string | null;
}

/**
 * Carries one claimed run forward, one checkpoint per transaction: the lines of the next
 * PAYROLL_CHECKPOINT_EVERY tickets and the cursor commit together, with the lease renewed, so a
 * run resumed by any worker continues after the cursor and the unique (run, line_key, kind)
 * makes double pay impossible. Tickets are read in keyset pages; a run never sits in memory.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger('PayrollRun');

  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly calculator: PayrollCalculator,
    private readonly finalizer: RunFinalizer,
    private readonly events: EventPublisher,
    private readonly gates: PayrollHealthGates,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
  ) {}

  async execute(runId: string, orgId: string, owner: string): Promise<void> {
    const at = { org_id: orgId, run_id: runId, job_id: runId, worker: owner };
    this.logger.log(at, 'payroll run claimed: executing');
    try {
      const drivers = await this.tenant.run(orgId, () => this.prepare(runId));
      for (;;) {
        const step = await this.tenant.run(orgId, () => this.step(runId, owner, drivers));
        if (step !== 'continue') break;
      }
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.logger.warn(at, err.message);
      } else {
        this.logger.warn({ ...at, err }, `payroll attempt failed: ${(err as Error).message}`);
        await this.tenant.run(orgId, () => this.failAttempt(runId, owner, err as Error));
      }
    } finally {
      await this.freeSlot(runId);
    }
  }

  private async prepare(runId: string): Promise<Map<string, DriverInput>> {
    const m = this.tenant.manager;
    const run = await m.findOneByOrFail(PayrollRun, { id: runId });
    if (run.processedTickets === 0 && run.phase === 'tickets') {
      await m.query(
        `UPDATE payroll_runs SET total_tickets = (SELECT count(*) FROM payroll_tickets
           WHERE org_id = $2 AND work_date BETWEEN $3 AND $4) WHERE id = $1`,
        [run.id, run.orgId, run.payPeriodStart, run.payPeriodEnd],
      );
    }
    const rows = (await m.query(`SELECT id, pay_type, rate::text, overtime_exempt FROM payroll_drivers`)) as {
      id: string;
      pay_type: DriverInput['payType'];
      rate: string | null;
      overtime_exempt: boolean;
    }[];
    return new Map(
      rows.map((d) => [d.id, { id: d.id, payType: d.pay_type, rate: d.rate, overtimeExempt: d.overtime_exempt }]),
    );
  }

  private async step(runId: string, owner: string, drivers: Map<string, DriverInput>): Promise<Step> {
    const m = this.tenant.manager;
    const run = await m.findOne(PayrollRun, { where: { id: runId }, lock: { mode: 'pessimistic_write' } });
    if (!run || run.status !== 'running' || run.leaseOwner !== owner) throw new LeaseLostError(runId);
    const at = { org_id: run.orgId, run_id: run.id, job_id: run.id, processed_tickets: run.processedTickets };
    if (run.cancelRequested) {
      await transition(m, run, 'cancelled', SYSTEM, 'cancel requested', { finished_at: new Date() });
      this.logger.log(at, 'payroll run cancelled at a checkpoint');
      return 'stopped';
    }
    if (run.pauseRequested) {
      await transition(m, run, 'paused', SYSTEM, run.pausedReason ?? 'pause requested', { pause_requested: false });
      this.logger.log({ ...at, reason: run.pausedReason }, 'payroll run paused at a checkpoint');
      return 'stopped';
    }
    const stress = this.gates.memoryPressure();
    if (stress || this.lifecycle.shuttingDown) {
      // Back to the queue at its cursor: another worker (or this one, later) resumes it.
      const reason = stress ?? 'worker shutting down';
      await transition(m, run, 'queued', SYSTEM, reason, { paused_reason: stress, next_attempt_at: new Date() });
      this.logger.log({ ...at, reason }, 'payroll run back to the queue at its cursor');
      return 'stopped';
    }
    if (run.phase === 'tickets') {
      const page = await this.ticketPage(run);
      if (!page.length) {
        await m.query(`UPDATE payroll_runs SET phase = 'finalize', ${this.leaseSql()} WHERE id = $1`, [run.id]);
        return 'continue';
      }
      await this.writeTicketLines(run, page, drivers);
      const last = page[page.length - 1];
      await m.query(
        `UPDATE payroll_runs SET cursor_work_date = $2, cursor_ticket_id = $3, processed_tickets = processed_tickets + $4,
         ${this.leaseSql()} WHERE id = $1`,
        [run.id, last.work_date, last.id, page.length],
      );
      this.logger.debug({ ...at, processed_tickets: run.processedTickets + page.length }, 'payroll checkpoint');
      return 'continue';
    }
    const cursor = await this.finalizer.step(run, drivers);
    if (cursor) {
      await m.query(`UPDATE payroll_runs SET cursor_driver_id = $2, ${this.leaseSql()} WHERE id = $1`, [
        run.id,
        cursor,
      ]);
      return 'continue';
    }
    await this.complete(run);
    return 'done';
  }

  private leaseSql(): string {
    return `lease_expires_at = now() + make_interval(secs => ${this.config.get('PAYROLL_LEASE_SECONDS')})`;
  }

  private async ticketPage(run: PayrollRun): Promise<TicketRow[]> {
    return (await this.tenant.manager.query(
      `SELECT t.id, t.ticket_number, t.driver_id, t.work_date::text AS work_date, t.hours::text AS hours, t.tons::text AS tons,
              t.yards::text AS yards, t.loads::text AS loads, t.revenue_cents
       FROM payroll_tickets t
       WHERE t.org_id = $1 AND t.work_date BETWEEN $2 AND $3
         AND ($4::date IS NULL OR (t.work_date, t.id) > ($4::date, $5::uuid))
       ORDER BY t.work_date, t.id LIMIT ${this.config.get('PAYROLL_CHECKPOINT_EVERY')}`,
      [run.orgId, run.payPeriodStart, run.payPeriodEnd, run.cursorWorkDate, run.cursorTicketId],
    )) as TicketRow[];
  }

  private async writeTicketLines(run: PayrollRun, page: TicketRow[], drivers: Map<string, DriverInput>): Promise<void> {
    const m = this.tenant.manager;
    const dupRows = (await m.query(
      `SELECT ticket_number FROM payroll_tickets WHERE org_id = $1 AND ticket_number = ANY($2::text[])
       GROUP BY ticket_number HAVING count(*) > 1`,
      [run.orgId, [...new Set(page.map((t) => t.ticket_number))]],
    )) as { ticket_number: string }[];
    const duplicates = new Set(dupRows.map((r) => r.ticket_number));
    const lines: PayLine[] = page.map((t) => {
      const ticket: TicketInput = {
        id: t.id,
        ticketNumber: t.ticket_number,
        driverId: t.driver_id,
        workDate: t.work_date,
        hours: t.hours,
        tons: t.tons,
        yards: t.yards,
        loads: t.loads,
        revenueCents: t.revenue_cents === null ? null : Number(t.revenue_cents),
        duplicate: duplicates.has(t.ticket_number),
      };
      const driver = drivers.get(t.driver_id);
      if (!driver) throw new Error(`ticket ${t.id} names driver ${t.driver_id}, who is not in this org`);
      return this.calculator.ticketLine(driver, ticket);
    });
    const values: unknown[] = [];
    const tuples = lines.map((l, i) => {
      values.push(
        run.orgId,
        run.id,
        l.driverId,
        l.ticketId,
        'ticket',
        l.ticketId,
        l.ticketNumber,
        l.workDate,
        l.quantity,
        l.unit,
        l.ticketHours ?? null,
        l.rate,
        l.amountCents,
        l.held,
        JSON.stringify(l.flags),
      );
      const b = i * 15;
      return `(${Array.from({ length: 15 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
    });
    await m.query(
      `INSERT INTO payroll_run_lines (org_id, run_id, driver_id, line_key, kind, ticket_id, ticket_number, work_date,
         quantity, unit, ticket_hours, rate, amount_cents, held, flags)
       VALUES ${tuples.join(', ')} ON CONFLICT (run_id, line_key, kind) DO NOTHING`,
      values,
    );
  }

  private async complete(run: PayrollRun): Promise<void> {
    const m = this.tenant.manager;
    const [totals] = (await m.query(
      `SELECT coalesce(sum(gross_cents), 0)::bigint AS gross, coalesce(sum(deductions_cents), 0)::bigint AS deductions,
              coalesce(sum(net_cents), 0)::bigint AS net, coalesce(sum(held_cents), 0)::bigint AS held
       FROM payroll_statements WHERE run_id = $1`,
      [run.id],
    )) as { gross: string; deductions: string; net: string; held: string }[];
    const [flags] = (await m.query(
      `SELECT count(*) FILTER (WHERE f->>'severity' = 'blocking')::int AS blocking,
              count(*) FILTER (WHERE f->>'severity' = 'warning')::int AS warning
       FROM (SELECT flags FROM payroll_run_lines WHERE run_id = $1 UNION ALL SELECT flags FROM payroll_statements WHERE run_id = $1) x,
            jsonb_array_elements(x.flags) f`,
      [run.id],
    )) as { blocking: number; warning: number }[];
    // A period without a single ticket is most likely the wrong period: say so.
    const [{ total }] = (await m.query(`SELECT total_tickets AS total FROM payroll_runs WHERE id = $1`, [run.id])) as {
      total: number;
    }[];
    const warnings: RunWarning[] =
      total === 0
        ? [{ code: 'NO_TICKETS', message: `No ticket of the org falls in ${run.payPeriodStart}..${run.payPeriodEnd}.` }]
        : [];
    const flagged = flags.blocking + flags.warning + warnings.length;
    const status = flagged > 0 ? 'completed_with_flags' : 'completed';
    await transition(m, run, status, SYSTEM, null, {
      warnings: JSON.stringify(warnings),
      finished_at: new Date(),
      gross_cents: totals.gross,
      deductions_cents: totals.deductions,
      net_cents: totals.net,
      held_cents: totals.held,
      flags_blocking: flags.blocking,
      flags_warning: flags.warning + warnings.length,
      last_error: null,
    });
    const replaced = (await m.query(
      `SELECT id, org_id AS "orgId", status FROM payroll_runs WHERE pay_period_start = $1 AND pay_period_end = $2
         AND status IN ('completed', 'completed_with_flags') AND id <> $3`,
      [run.payPeriodStart, run.payPeriodEnd, run.id],
    )) as { id: string; orgId: string; status: PayrollRun['status'] }[];
    for (const old of replaced)
      await transition(m, old, 'superseded', SYSTEM, `replaced by ${run.id}`, { superseded_by: run.id });
    this.logger.log(
      {
        org_id: run.orgId,
        run_id: run.id,
        job_id: run.id,
        status,
        tickets: total,
        duration_ms: run.startedAt ? Date.now() - run.startedAt.getTime() : null,
        flags_blocking: flags.blocking,
        flags_warning: flags.warning + warnings.length,
      },
      `payroll run ${status}`,
    );
    await this.events.publish('payroll.run.completed', {
      run_id: run.id,
      status,
      pay_period_start: run.payPeriodStart,
      pay_period_end: run.payPeriodEnd,
      totals: {
        gross_cents: Number(totals.gross),
        deductions_cents: Number(totals.deductions),
        net_cents: Number(totals.net),
        held_cents: Number(totals.held),
      },
      flags,
    });
  }

  private async failAttempt(runId: string, owner: string, error: Error): Promise<void> {
    const m = this.tenant.manager;
    const run = await m.findOne(PayrollRun, { where: { id: runId }, lock: { mode: 'pessimistic_write' } });
    if (!run || run.status !== 'running' || run.leaseOwner !== owner) return;
    const message = error.message.slice(0, 1000);
    const attempts = run.attempts + 1;
    const at = { org_id: run.orgId, run_id: run.id, job_id: run.id, attempt: attempts };
    if (attempts >= this.config.get('PAYROLL_MAX_ATTEMPTS')) {
      await transition(m, run, 'failed', SYSTEM, message, { attempts, last_error: message, finished_at: new Date() });
      this.logger.error({ ...at, error: message }, 'payroll run failed: no attempt left');
      await this.events.publish('payroll.run.failed', {
        run_id: run.id,
        pay_period_start: run.payPeriodStart,
        pay_period_end: run.payPeriodEnd,
        attempts,
        error: message,
        totals: { processed_tickets: run.processedTickets, total_tickets: run.totalTickets },
      });
      return;
    }
    const delay = backoffDelay(attempts, {
      baseMs: this.config.get('PAYROLL_RETRY_BASE_MS'),
      capMs: this.config.get('PAYROLL_RETRY_CAP_MS'),
      jitter: 0.2,
    });
    const next = new Date(Date.now() + delay);
    await transition(m, run, 'queued', SYSTEM, `attempt ${attempts} failed: ${message}`, {
      attempts,
      last_error: message,
      next_attempt_at: next,
    });
    this.logger.warn({ ...at, error: message, next_attempt_at: next.toISOString() }, 'payroll attempt failed: retry');
  }

  /** The slot table belongs to the system role; a slot is free once its run is not running. */
  private async freeSlot(runId: string): Promise<void> {
    await releaseStaleSlots(this.db.system, runId).catch((err: Error) =>
      this.logger.warn(`slot of ${runId} not freed yet: ${err.message}`),
    );
  }
}
