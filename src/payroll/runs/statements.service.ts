import { Injectable, NotFoundException } from '@nestjs/common';
import { TenantContext } from '../../../libs/database';
import { ProblemException } from '../../../libs/http';
import { csvNumber, csvText } from './csv-cells';
import type { StatementDto, StatementPageDto } from './dto/statement.dto';
import { PayrollRun } from './entities/payroll-run.entity';
import type { StoredFlag } from './entities/run-results.entity';

const UUID = /^[0-9a-f-]{36}$/i;

/** Per-driver statements of a run, as JSON pages (by driver) or one CSV. */
@Injectable()
export class StatementsService {
  constructor(private readonly tenant: TenantContext) {}

  async page(runId: string, limit = 50, cursor?: string): Promise<StatementPageDto> {
    await this.requireRun(runId);
    if (cursor && !UUID.test(cursor)) {
      throw new ProblemException(400, 'The cursor is not valid.', {
        errors: [{ field: 'cursor', message: 'invalid cursor' }],
      });
    }
    const m = this.tenant.manager;
    const statements = (await m.query(
      `SELECT s.driver_id, d.name AS driver_name, s.gross_cents, s.deductions_cents, s.net_cents, s.held_cents, s.flags
       FROM payroll_statements s JOIN payroll_drivers d ON d.id = s.driver_id
       WHERE s.run_id = $1 AND ($2::uuid IS NULL OR s.driver_id > $2::uuid) ORDER BY s.driver_id LIMIT $3`,
      [runId, cursor ?? null, limit + 1],
    )) as {
      driver_id: string;
      driver_name: string;
      gross_cents: string;
      deductions_cents: string;
      net_cents: string;
      held_cents: string;
      flags: StoredFlag[];
    }[];
    const page = statements.slice(0, limit);
    const ids = page.map((s) => s.driver_id);
    const lines = (await m.query(
      `SELECT driver_id, ticket_number, work_date::text, kind, quantity::text, unit, rate::text, amount_cents, held, flags
       FROM payroll_run_lines WHERE run_id = $1 AND driver_id = ANY($2::uuid[])
       ORDER BY driver_id, CASE kind WHEN 'ticket' THEN 0 WHEN 'overtime' THEN 1 ELSE 2 END, work_date, ticket_number, line_key`,
      [runId, ids],
    )) as {
      driver_id: string;
      ticket_number: string | null;
      work_date: string | null;
      kind: string;
      quantity: string | null;
      unit: string | null;
      rate: string | null;
      amount_cents: string;
      held: boolean;
      flags: StoredFlag[];
    }[];
    const applied = (await m.query(
      `SELECT driver_id, deduction_id, name, wanted_cents, capped_cents, applied_cents, shortfall_cents
       FROM payroll_deduction_applications WHERE run_id = $1 AND driver_id = ANY($2::uuid[]) ORDER BY driver_id, name, deduction_id`,
      [runId, ids],
    )) as {
      driver_id: string;
      deduction_id: string;
      name: string;
      wanted_cents: string;
      capped_cents: string;
      applied_cents: string;
      shortfall_cents: string;
    }[];
    const items: StatementDto[] = page.map((s) => ({
      driver_id: s.driver_id,
      driver_name: s.driver_name,
      gross_cents: Number(s.gross_cents),
      deductions_cents: Number(s.deductions_cents),
      net_cents: Number(s.net_cents),
      held_cents: Number(s.held_cents),
      flags: s.flags,
      lines: lines
        .filter((l) => l.driver_id === s.driver_id)
        .map((l) => ({
          ticket_number: l.ticket_number,
          work_date: l.work_date,
          kind: l.kind,
          quantity: l.quantity,
          unit: l.unit,
          rate: l.rate,
          amount_cents: Number(l.amount_cents),
          held: l.held,
          flags: l.flags,
        })),
      deductions: applied
        .filter((a) => a.driver_id === s.driver_id)
        .map((a) => ({
          deduction_id: a.deduction_id,
          name: a.name,
          wanted_cents: Number(a.wanted_cents),
          capped_cents: Number(a.capped_cents),
          applied_cents: Number(a.applied_cents),
          shortfall_cents: Number(a.shortfall_cents),
        })),
    }));
    return { items, next_cursor: statements.length > limit ? page[page.length - 1].driver_id : null };
  }

  /** One row per pay line and per applied deduction, then one total row per driver. */
  async csv(runId: string): Promise<string> {
    await this.requireRun(runId);
    const m = this.tenant.manager;
    const header = [
      'record',
      'driver_id',
      'driver_name',
      'ticket_number',
      'work_date',
      'kind',
      'quantity',
      'unit',
      'rate',
      'amount_cents',
      'held',
      'flags',
      'gross_cents',
      'deductions_cents',
      'net_cents',
      'held_cents',
      'shortfall_cents',
    ];
    const rows = (await m.query(
      `SELECT 'line' AS record, l.driver_id, d.name, l.ticket_number, l.work_date::text, l.kind, l.quantity::text, l.unit, l.rate::text,
              l.amount_cents, l.held, (SELECT string_agg(f->>'code', ';') FROM jsonb_array_elements(l.flags) f) AS flags,
              NULL::bigint AS gross, NULL::bigint AS ded, NULL::bigint AS net, NULL::bigint AS held_total,
              NULL::bigint AS shortfall, 0 AS o, l.line_key AS k
       FROM payroll_run_lines l JOIN payroll_drivers d ON d.id = l.driver_id WHERE l.run_id = $1
       UNION ALL
       SELECT 'deduction', a.driver_id, d.name, NULL, NULL, a.name, NULL, NULL, NULL, a.applied_cents, NULL::boolean, NULL,
              NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, a.shortfall_cents, 1, a.deduction_id::text
       FROM payroll_deduction_applications a JOIN payroll_drivers d ON d.id = a.driver_id WHERE a.run_id = $1
       UNION ALL
       SELECT 'statement', s.driver_id, d.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL::bigint, NULL::boolean,
              (SELECT string_agg(f->>'code', ';') FROM jsonb_array_elements(s.flags) f),
              s.gross_cents, s.deductions_cents, s.net_cents, s.held_cents, NULL, 2, ''
       FROM payroll_statements s JOIN payroll_drivers d ON d.id = s.driver_id WHERE s.run_id = $1
       ORDER BY 2, o, 5, 4, k`,
      [runId],
    )) as Record<string, unknown>[];
    // Names, ticket numbers, deduction names and units are user text; the rest is ours.
    const body = rows.map((r) =>
      [
        csvText(r.record),
        csvText(r.driver_id),
        csvText(r.name),
        csvText(r.ticket_number),
        csvText(r.work_date),
        csvText(r.kind),
        csvNumber(r.quantity),
        csvText(r.unit),
        csvNumber(r.rate),
        csvNumber(r.amount_cents),
        csvText(r.held),
        csvText(r.flags),
        csvNumber(r.gross),
        csvNumber(r.ded),
        csvNumber(r.net),
        csvNumber(r.held_total),
        csvNumber(r.shortfall),
      ].join(','),
    );
    return [header.join(','), ...body].join('\r\n') + '\r\n';
  }

  private async requireRun(runId: string): Promise<PayrollRun> {
    const run = await this.tenant.repo(PayrollRun).findOneBy({ id: runId });
    if (!run) throw new NotFoundException('No such payroll job.');
    return run;
  }
}
