import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../../libs/database';
import { ProblemException } from '../../../libs/http';
import { EXCESSIVE_HOURS_PER_DAY, OUTLIER_MIN_TICKETS, OUTLIER_MULTIPLE } from '../calculator/aggregate-flags';

/** A flagged pay line with what explains its flags: the ticket, the driver, the day, the median, the duplicates. */
export interface FlaggedLineEvidence {
  kind: string;
  ticket_id: string | null;
  ticket_number: string | null;
  work_date: string | null;
  driver_id: string;
  driver_name: string;
  pay_type: string;
  driver_rate: string | null;
  quantity: string | null;
  unit: string | null;
  rate: string | null;
  amount_cents: number;
  held: boolean;
  flags: string[];
  ticket: {
    hours: string | null;
    tons: string | null;
    yards: string | null;
    loads: string | null;
    revenue_cents: number | null;
  } | null;
  /** Hours of all the driver's tickets on this work date in the run. */
  day_hours: string | null;
  /** The driver's median quantity for this unit in the run, and over how many tickets. */
  driver_median: string | null;
  driver_unit_tickets: number;
  /** Other tickets of the org with the same ticket number. */
  duplicates: { ticket_id: string; work_date: string; driver_id: string }[];
}

export interface ShortfallEvidence {
  driver_id: string;
  driver_name: string;
  deduction: string;
  wanted_cents: number;
  applied_cents: number;
  shortfall_cents: number;
}

export interface RunEvidence {
  run: {
    id: string;
    status: string;
    pay_period_start: string;
    pay_period_end: string;
    attempts: number;
    last_error: string | null;
    processed_tickets: number;
    total_tickets: number;
    flags_blocking: number;
    flags_warning: number;
    held_cents: number;
    net_cents: number;
    warnings: { code: string; message?: string }[];
  };
  events: { from_status: string | null; to_status: string; actor: string; reason: string | null; at: string }[];
  /** Flagged lines, blocking first, at most `limit`; `flagged_lines` is the full count. */
  lines: FlaggedLineEvidence[];
  flagged_lines: number;
  shortfalls: ShortfallEvidence[];
  thresholds: { excessive_hours_per_day: number; outlier_multiple: number; outlier_min_tickets: number };
}

const num = (v: string | number | null): number => (v === null ? 0 : Number(v));

/**
 * What a payroll run's results say about themselves, for diagnosis (the assistant agents' read
 * tools): read in the caller's tenant transaction, so RLS bounds it like every payroll read.
 */
@Injectable()
export class PayrollDiagnostics {
  constructor(private readonly tenant: TenantContext) {}

  async runEvidence(runId: string, limit = 100): Promise<RunEvidence> {
    const m = this.tenant.manager;
    const [run] = (await m.query(
      `SELECT id, status, pay_period_start::text, pay_period_end::text, attempts, last_error, processed_tickets,
              total_tickets, flags_blocking, flags_warning, held_cents, net_cents, warnings
       FROM payroll_runs WHERE id = $1`,
      [runId],
    )) as (Omit<RunEvidence['run'], 'held_cents' | 'net_cents'> & { held_cents: string; net_cents: string })[];
    if (!run) throw new ProblemException(404, 'No such payroll run.');
    const events = (await m.query(
      `SELECT from_status, to_status, actor, reason, at FROM payroll_run_events WHERE run_id = $1 ORDER BY at, id`,
      [runId],
    )) as { from_status: string | null; to_status: string; actor: string; reason: string | null; at: Date }[];
    const [{ n }] = (await m.query(
      `SELECT count(*)::int AS n FROM payroll_run_lines WHERE run_id = $1 AND jsonb_array_length(flags) > 0`,
      [runId],
    )) as { n: number }[];
    const lines = await this.flaggedLines(runId, limit);
    const shortfalls = (await m.query(
      `SELECT a.driver_id, d.name AS driver_name, a.name AS deduction, a.wanted_cents, a.applied_cents, a.shortfall_cents
       FROM payroll_deduction_applications a JOIN payroll_drivers d ON d.id = a.driver_id
       WHERE a.run_id = $1 AND a.shortfall_cents > 0 ORDER BY d.name, a.name`,
      [runId],
    )) as (Omit<ShortfallEvidence, 'wanted_cents' | 'applied_cents' | 'shortfall_cents'> & Record<string, string>)[];
    return {
      run: { ...run, held_cents: num(run.held_cents), net_cents: num(run.net_cents), warnings: run.warnings ?? [] },
      events: events.map((e) => ({ ...e, at: e.at.toISOString() })),
      lines,
      flagged_lines: n,
      shortfalls: shortfalls.map((s) => ({
        driver_id: s.driver_id,
        driver_name: s.driver_name,
        deduction: s.deduction,
        wanted_cents: num(s.wanted_cents),
        applied_cents: num(s.applied_cents),
        shortfall_cents: num(s.shortfall_cents),
      })),
      thresholds: {
        excessive_hours_per_day: EXCESSIVE_HOURS_PER_DAY,
        outlier_multiple: OUTLIER_MULTIPLE,
        outlier_min_tickets: OUTLIER_MIN_TICKETS,
      },
    };
  }

  /** The newest run that paid a ticket, or null: a ticket id leads to the run that judged it. */
  async runOfTicket(ticketId: string): Promise<string | null> {
    const [row] = (await this.tenant.manager.query(
      `SELECT l.run_id FROM payroll_run_lines l JOIN payroll_runs r ON r.id = l.run_id
       WHERE l.ticket_id = $1 ORDER BY r.created_at DESC LIMIT 1`,
      [ticketId],
    )) as { run_id: string }[];
    if (row) return row.run_id;
    const [ticket] = (await this.tenant.manager.query(`SELECT 1 FROM payroll_tickets WHERE id = $1`, [
      ticketId,
    ])) as unknown[];
    if (!ticket) throw new ProblemException(404, 'No such ticket.');
    return null;
  }

  private async flaggedLines(runId: string, limit: number): Promise<FlaggedLineEvidence[]> {
    const rows = (await this.tenant.manager.query(
      `WITH flagged AS (
         SELECT l.* FROM payroll_run_lines l
         WHERE l.run_id = $1 AND jsonb_array_length(l.flags) > 0
         ORDER BY l.held DESC, l.work_date NULLS LAST, l.ticket_number NULLS LAST, l.id LIMIT $2),
       medians AS (
         SELECT l.driver_id, l.unit, percentile_cont(0.5) WITHIN GROUP (ORDER BY l.quantity)::numeric(14,3)::text AS median,
                count(*)::int AS tickets
         FROM payroll_run_lines l
         WHERE l.run_id = $1 AND l.kind = 'ticket' AND l.quantity IS NOT NULL
           AND (l.driver_id, l.unit) IN (SELECT driver_id, unit FROM flagged)
         GROUP BY l.driver_id, l.unit),
       days AS (
         SELECT l.driver_id, l.work_date, sum(l.ticket_hours)::text AS hours FROM payroll_run_lines l
         WHERE l.run_id = $1 AND l.kind = 'ticket' AND (l.driver_id, l.work_date) IN (SELECT driver_id, work_date FROM flagged)
         GROUP BY l.driver_id, l.work_date)
       SELECT f.kind, f.ticket_id, f.ticket_number, f.work_date::text, f.driver_id, d.name AS driver_name, d.pay_type,
              d.rate::text AS driver_rate, f.quantity::text, f.unit, f.rate::text, f.amount_cents, f.held,
              (SELECT coalesce(jsonb_agg(x->>'code'), '[]') FROM jsonb_array_elements(f.flags) x) AS flags,
              t.hours::text AS t_hours, t.tons::text AS t_tons, t.yards::text AS t_yards, t.loads::text AS t_loads,
              t.revenue_cents AS t_revenue, days.hours AS day_hours, m.median, coalesce(m.tickets, 0) AS unit_tickets,
              (SELECT coalesce(jsonb_agg(jsonb_build_object('ticket_id', o.id, 'work_date', o.work_date::text,
                                                            'driver_id', o.driver_id) ORDER BY o.work_date, o.id), '[]')
               FROM payroll_tickets o WHERE o.ticket_number = f.ticket_number AND o.id <> f.ticket_id) AS duplicates
       FROM flagged f
       JOIN payroll_drivers d ON d.id = f.driver_id
       LEFT JOIN payroll_tickets t ON t.id = f.ticket_id
       LEFT JOIN medians m ON m.driver_id = f.driver_id AND m.unit = f.unit
       LEFT JOIN days ON days.driver_id = f.driver_id AND days.work_date = f.work_date
       ORDER BY f.held DESC, f.work_date NULLS LAST, f.ticket_number NULLS LAST, f.id`,
      [runId, limit],
    )) as Record<string, unknown>[];
    return rows.map((r) => ({
      kind: r.kind as string,
      ticket_id: r.ticket_id as string | null,
      ticket_number: r.ticket_number as string | null,
      work_date: r.work_date as string | null,
      driver_id: r.driver_id as string,
      driver_name: r.driver_name as string,
      pay_type: r.pay_type as string,
      driver_rate: r.driver_rate as string | null,
      quantity: r.quantity as string | null,
      unit: r.unit as string | null,
      rate: r.rate as string | null,
      amount_cents: num(r.amount_cents as string),
      held: r.held as boolean,
      flags: r.flags as string[],
      ticket: r.ticket_id
        ? {
            hours: r.t_hours as string | null,
            tons: r.t_tons as string | null,
            yards: r.t_yards as string | null,
            loads: r.t_loads as string | null,
            revenue_cents: r.t_revenue === null ? null : num(r.t_revenue as string),
          }
        : null,
      day_hours: r.day_hours as string | null,
      driver_median: r.median as string | null,
      driver_unit_tickets: r.unit_tickets as number,
      duplicates: r.duplicates as FlaggedLineEvidence['duplicates'],
    }));
  }
}
