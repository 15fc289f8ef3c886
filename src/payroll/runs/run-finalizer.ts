import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../../libs/database';
import type { DeductionInput, DriverInput, Flag, PayLine } from '../calculator';
import type { PayrollRun } from './entities/payroll-run.entity';
import { PayrollCalculator } from './payroll-calculator.service';

const DRIVERS_PER_STEP = 50;

interface LineRow {
  driver_id: string;
  ticket_id: string | null;
  ticket_number: string | null;
  work_date: string | null;
  kind: 'ticket';
  quantity: string | null;
  unit: PayLine['unit'];
  rate: string | null;
  ticket_hours: string | null;
  amount_cents: string;
  held: boolean;
  flags: Flag[];
}

/**
 * The second phase of a run: per driver, overtime, salary, the aggregate flags, deductions and
 * the statement, from the ticket lines already stored. A step handles a batch of drivers in
 * the caller's transaction and returns the last driver id (the cursor), or null when done.
 */
@Injectable()
export class RunFinalizer {
  constructor(
    private readonly tenant: TenantContext,
    private readonly calculator: PayrollCalculator,
  ) {}

  async step(run: PayrollRun, drivers: Map<string, DriverInput>): Promise<string | null> {
    const m = this.tenant.manager;
    const ids = (
      (await m.query(
        `SELECT driver_id FROM (
           SELECT DISTINCT driver_id FROM payroll_run_lines WHERE run_id = $1 AND kind = 'ticket'
           UNION SELECT id FROM payroll_drivers WHERE pay_type = 'salary' AND active) d
         WHERE $2::uuid IS NULL OR driver_id > $2::uuid ORDER BY driver_id LIMIT ${DRIVERS_PER_STEP}`,
        [run.id, run.cursorDriverId],
      )) as { driver_id: string }[]
    ).map((r) => r.driver_id);
    if (!ids.length) return null;
    const deductions = await this.deductionsFor(run, ids);
    const period = { start: run.payPeriodStart, end: run.payPeriodEnd };
    for (const driverId of ids) {
      const driver = drivers.get(driverId);
      if (!driver) continue;
      const stored = (await m.query(
        `SELECT driver_id, ticket_id, ticket_number, work_date::text, kind, quantity::text, unit, rate::text,
                ticket_hours::text, amount_cents, held, flags
         FROM payroll_run_lines WHERE run_id = $1 AND driver_id = $2 AND kind = 'ticket'`,
        [run.id, driverId],
      )) as LineRow[];
      const lines: PayLine[] = stored.map((l) => ({
        driverId: l.driver_id,
        ticketId: l.ticket_id,
        ticketNumber: l.ticket_number,
        workDate: l.work_date,
        kind: l.kind,
        quantity: l.quantity,
        unit: l.unit,
        rate: l.rate,
        ticketHours: l.ticket_hours,
        amountCents: Number(l.amount_cents),
        held: l.held,
        flags: l.flags,
      }));
      const before = new Map(lines.map((l) => [l.ticketId, JSON.stringify(l.flags)]));
      const statement = this.calculator.driverStatement(driver, lines, deductions.get(driverId) ?? [], period);
      // Aggregate flags (EXCESSIVE_HOURS, QUANTITY_OUTLIER) change ticket lines: one UPDATE for all of them.
      const changed = statement.lines.filter(
        (l) => l.kind === 'ticket' && before.get(l.ticketId) !== JSON.stringify(l.flags),
      );
      if (changed.length) {
        await m.query(
          `UPDATE payroll_run_lines l SET flags = v.flags::jsonb
           FROM (SELECT unnest($2::text[]) AS key, unnest($3::text[]) AS flags) v
           WHERE l.run_id = $1 AND l.kind = 'ticket' AND l.line_key = v.key`,
          [run.id, changed.map((l) => l.ticketId), changed.map((l) => JSON.stringify(l.flags))],
        );
      }
      for (const line of statement.lines) {
        if (line.kind === 'ticket') continue;
        const key = line.kind === 'overtime' ? `${driverId}:${line.isoWeek}` : `${driverId}:salary`;
        await m.query(
          `INSERT INTO payroll_run_lines (org_id, run_id, driver_id, line_key, kind, work_date, quantity, unit, rate, amount_cents, held, flags)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (run_id, line_key, kind) DO UPDATE SET quantity = EXCLUDED.quantity, rate = EXCLUDED.rate,
             amount_cents = EXCLUDED.amount_cents, held = EXCLUDED.held, flags = EXCLUDED.flags`,
          [
            run.orgId,
            run.id,
            driverId,
            key,
            line.kind,
            line.workDate,
            line.quantity,
            line.unit,
            line.rate,
            line.amountCents,
            line.held,
            JSON.stringify(line.flags),
          ],
        );
      }
      await m.query(
        `INSERT INTO payroll_statements (org_id, run_id, driver_id, gross_cents, held_cents, deductions_cents, net_cents, flags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (run_id, driver_id) DO UPDATE SET gross_cents = EXCLUDED.gross_cents, held_cents = EXCLUDED.held_cents,
           deductions_cents = EXCLUDED.deductions_cents, net_cents = EXCLUDED.net_cents, flags = EXCLUDED.flags`,
        [
          run.orgId,
          run.id,
          driverId,
          statement.grossCents,
          statement.heldCents,
          statement.deductionsCents,
          statement.netCents,
          JSON.stringify(statement.flags),
        ],
      );
      for (const a of statement.deductions) {
        await m.query(
          `INSERT INTO payroll_deduction_applications (org_id, run_id, driver_id, deduction_id, name, wanted_cents, capped_cents, applied_cents, shortfall_cents)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (run_id, deduction_id) DO UPDATE SET wanted_cents = EXCLUDED.wanted_cents, capped_cents = EXCLUDED.capped_cents,
             applied_cents = EXCLUDED.applied_cents, shortfall_cents = EXCLUDED.shortfall_cents`,
          [
            run.orgId,
            run.id,
            driverId,
            a.deductionId,
            a.name,
            a.wantedCents,
            a.cappedCents,
            a.appliedCents,
            a.shortfallCents,
          ],
        );
      }
    }
    return ids[ids.length - 1];
  }

  /**
   * Active deductions with what earlier runs applied (toward caps) and the shortfall carried
   * from the latest one. Runs of this same period do not count: this run replaces them.
   */
  private async deductionsFor(run: PayrollRun, driverIds: string[]): Promise<Map<string, DeductionInput[]>> {
    const rows = (await this.tenant.manager.query(
      `SELECT d.id, d.driver_id, d.name, d.kind, d.amount_cents, d.percent::text, d.priority, d.created_at, d.max_total_cents,
              coalesce(h.applied, 0) AS applied, coalesce(h.carry, 0) AS carry
       FROM payroll_deductions d
       LEFT JOIN LATERAL (
         SELECT sum(a.applied_cents) AS applied,
                (array_agg(a.shortfall_cents ORDER BY r.finished_at DESC, r.id DESC))[1] AS carry
         FROM payroll_deduction_applications a JOIN payroll_runs r ON r.id = a.run_id
         WHERE a.deduction_id = d.id AND r.status IN ('completed', 'completed_with_flags')
           AND NOT (r.pay_period_start = $2 AND r.pay_period_end = $3)
       ) h ON true
       WHERE d.active AND d.driver_id = ANY($1::uuid[])`,
      [driverIds, run.payPeriodStart, run.payPeriodEnd],
    )) as {
      id: string;
      driver_id: string;
      name: string;
      kind: 'fixed' | 'percent';
      amount_cents: string | null;
      percent: string | null;
      priority: number;
      created_at: Date;
      max_total_cents: string | null;
      applied: string;
      carry: string;
    }[];
    const out = new Map<string, DeductionInput[]>();
    for (const r of rows) {
      const list = out.get(r.driver_id) ?? [];
      list.push({
        id: r.id,
        driverId: r.driver_id,
        name: r.name,
        kind: r.kind,
        amountCents: r.amount_cents === null ? null : Number(r.amount_cents),
        percent: r.percent,
        priority: r.priority,
        createdAt: r.created_at.toISOString(),
        maxTotalCents: r.max_total_cents === null ? null : Number(r.max_total_cents),
        appliedToDateCents: Number(r.applied),
        carryInCents: Number(r.carry),
      });
      out.set(r.driver_id, list);
    }
    return out;
  }
}
