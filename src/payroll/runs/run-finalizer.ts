import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../../libs/database';
import type { DeductionInput, DriverInput, DriverStatement, Flag, PayLine } from '../calculator';
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

/** One driver's computed statement, with what it changes in the stored ticket lines. */
interface DriverResult {
  driverId: string;
  statement: DriverStatement;
  /** Ticket lines whose flags the aggregate rules changed (EXCESSIVE_HOURS, QUANTITY_OUTLIER). */
  reflagged: PayLine[];
}

/**
 * The second phase of a run: per driver, overtime, salary, the aggregate flags, deductions and
 * the statement, from the ticket lines already stored. A step handles a batch of drivers in
 * the caller's transaction — read in two statements, computed by the pure calculator, written
 * in one statement per kind of row — and returns the last driver id (the cursor), or null when
 * done. Every write is an upsert, so a step repeated after a crash writes the same rows.
 */
@Injectable()
export class RunFinalizer {
  constructor(
    private readonly tenant: TenantContext,
    private readonly calculator: PayrollCalculator,
  ) {}

  async step(run: PayrollRun, drivers: Map<string, DriverInput>): Promise<string | null> {
    const ids = await this.nextDrivers(run);
    if (!ids.length) return null;
    const deductions = await this.deductionsFor(run, ids);
    const lines = await this.ticketLines(run, ids);
    const period = { start: run.payPeriodStart, end: run.payPeriodEnd };
    const results: DriverResult[] = [];
    for (const driverId of ids) {
      const driver = drivers.get(driverId);
      if (!driver) continue;
      const stored = lines.get(driverId) ?? [];
      const before = new Map(stored.map((l) => [l.ticketId, JSON.stringify(l.flags)]));
      const statement = this.calculator.driverStatement(driver, stored, deductions.get(driverId) ?? [], period);
      const reflagged = statement.lines.filter(
        (l) => l.kind === 'ticket' && before.get(l.ticketId) !== JSON.stringify(l.flags),
      );
      results.push({ driverId, statement, reflagged });
    }
    await this.writeTicketFlags(run, results);
    await this.writeDriverLines(run, results);
    await this.writeStatements(run, results);
    await this.writeApplications(run, results);
    return ids[ids.length - 1];
  }

  /**
   * The next batch of drivers after the cursor: those with ticket lines in this run, and active
   * salaried ones. Walks the org's drivers in id order from the cursor, each checked through the
   * (run_id, driver_id) index, so a step costs the same however many lines the run holds (a
   * DISTINCT over all the run's lines before the cursor filter made finalize quadratic).
   */
  private async nextDrivers(run: PayrollRun): Promise<string[]> {
    const rows = (await this.tenant.manager.query(
      `SELECT d.id AS driver_id FROM payroll_drivers d
       WHERE ($2::uuid IS NULL OR d.id > $2::uuid)
         AND ((d.pay_type = 'salary' AND d.active)
           OR EXISTS (SELECT 1 FROM payroll_run_lines l WHERE l.run_id = $1 AND l.driver_id = d.id AND l.kind = 'ticket'))
       ORDER BY d.id LIMIT ${DRIVERS_PER_STEP}`,
      [run.id, run.cursorDriverId],
    )) as { driver_id: string }[];
    return rows.map((r) => r.driver_id);
  }

  /** The stored ticket lines of a batch of drivers, in one read. */
  private async ticketLines(run: PayrollRun, driverIds: string[]): Promise<Map<string, PayLine[]>> {
    const rows = (await this.tenant.manager.query(
      `SELECT driver_id, ticket_id, ticket_number, work_date::text, kind, quantity::text, unit, rate::text,
              ticket_hours::text, amount_cents, held, flags
       FROM payroll_run_lines WHERE run_id = $1 AND driver_id = ANY($2::uuid[]) AND kind = 'ticket'`,
      [run.id, driverIds],
    )) as LineRow[];
    const out = new Map<string, PayLine[]>();
    for (const l of rows) {
      const list = out.get(l.driver_id) ?? [];
      list.push({
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
      });
      out.set(l.driver_id, list);
    }
    return out;
  }

  /** Ticket lines whose aggregate flags changed: one UPDATE for the batch. */
  private async writeTicketFlags(run: PayrollRun, results: DriverResult[]): Promise<void> {
    const changed = results.flatMap((r) => r.reflagged);
    if (!changed.length) return;
    await this.tenant.manager.query(
      `UPDATE payroll_run_lines l SET flags = v.flags::jsonb
       FROM (SELECT unnest($2::text[]) AS key, unnest($3::text[]) AS flags) v
       WHERE l.run_id = $1 AND l.kind = 'ticket' AND l.line_key = v.key`,
      [run.id, changed.map((l) => l.ticketId), changed.map((l) => JSON.stringify(l.flags))],
    );
  }

  /** Overtime (one per ISO week) and salary lines: one upsert for the batch. */
  private async writeDriverLines(run: PayrollRun, results: DriverResult[]): Promise<void> {
    const rows = results.flatMap(({ driverId, statement }) =>
      statement.lines
        .filter((l) => l.kind !== 'ticket')
        .map((l) => ({
          driver_id: driverId,
          line_key: l.kind === 'overtime' ? `${driverId}:${l.isoWeek}` : `${driverId}:salary`,
          kind: l.kind,
          work_date: l.workDate,
          quantity: l.quantity,
          unit: l.unit,
          rate: l.rate,
          amount_cents: l.amountCents,
          held: l.held,
          flags: l.flags,
        })),
    );
    if (!rows.length) return;
    await this.tenant.manager.query(
      `INSERT INTO payroll_run_lines (org_id, run_id, driver_id, line_key, kind, work_date, quantity, unit, rate, amount_cents, held, flags)
       SELECT $1, $2, x.driver_id, x.line_key, x.kind, x.work_date, x.quantity, x.unit, x.rate, x.amount_cents, x.held, x.flags
       FROM jsonb_to_recordset($3::jsonb) AS x(driver_id uuid, line_key text, kind text, work_date date, quantity numeric,
         unit text, rate numeric, amount_cents bigint, held boolean, flags jsonb)
       ON CONFLICT (run_id, line_key, kind) DO UPDATE SET quantity = EXCLUDED.quantity, rate = EXCLUDED.rate,
         amount_cents = EXCLUDED.amount_cents, held = EXCLUDED.held, flags = EXCLUDED.flags`,
      [run.orgId, run.id, JSON.stringify(rows)],
    );
  }

  /** One statement per driver: one upsert for the batch. */
  private async writeStatements(run: PayrollRun, results: DriverResult[]): Promise<void> {
    if (!results.length) return;
    const rows = results.map(({ driverId, statement: s }) => ({
      driver_id: driverId,
      gross_cents: s.grossCents,
      held_cents: s.heldCents,
      deductions_cents: s.deductionsCents,
      net_cents: s.netCents,
      flags: s.flags,
    }));
    await this.tenant.manager.query(
      `INSERT INTO payroll_statements (org_id, run_id, driver_id, gross_cents, held_cents, deductions_cents, net_cents, flags)
       SELECT $1, $2, x.driver_id, x.gross_cents, x.held_cents, x.deductions_cents, x.net_cents, x.flags
       FROM jsonb_to_recordset($3::jsonb) AS x(driver_id uuid, gross_cents bigint, held_cents bigint,
         deductions_cents bigint, net_cents bigint, flags jsonb)
       ON CONFLICT (run_id, driver_id) DO UPDATE SET gross_cents = EXCLUDED.gross_cents, held_cents = EXCLUDED.held_cents,
         deductions_cents = EXCLUDED.deductions_cents, net_cents = EXCLUDED.net_cents, flags = EXCLUDED.flags`,
      [run.orgId, run.id, JSON.stringify(rows)],
    );
  }

  /** What each deduction took (and left as shortfall): one upsert for the batch. */
  private async writeApplications(run: PayrollRun, results: DriverResult[]): Promise<void> {
    const rows = results.flatMap(({ driverId, statement }) =>
      statement.deductions.map((a) => ({
        driver_id: driverId,
        deduction_id: a.deductionId,
        name: a.name,
        wanted_cents: a.wantedCents,
        capped_cents: a.cappedCents,
        applied_cents: a.appliedCents,
        shortfall_cents: a.shortfallCents,
      })),
    );
    if (!rows.length) return;
    await this.tenant.manager.query(
      `INSERT INTO payroll_deduction_applications (org_id, run_id, driver_id, deduction_id, name, wanted_cents, capped_cents, applied_cents, shortfall_cents)
       SELECT $1, $2, x.driver_id, x.deduction_id, x.name, x.wanted_cents, x.capped_cents, x.applied_cents, x.shortfall_cents
       FROM jsonb_to_recordset($3::jsonb) AS x(driver_id uuid, deduction_id uuid, name text, wanted_cents bigint,
         capped_cents bigint, applied_cents bigint, shortfall_cents bigint)
       ON CONFLICT (run_id, deduction_id) DO UPDATE SET wanted_cents = EXCLUDED.wanted_cents, capped_cents = EXCLUDED.capped_cents,
         applied_cents = EXCLUDED.applied_cents, shortfall_cents = EXCLUDED.shortfall_cents`,
      [run.orgId, run.id, JSON.stringify(rows)],
    );
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
