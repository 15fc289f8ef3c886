import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AuditService } from '../../../libs/audit';
import { auditActor, Principal } from '../../../libs/auth';
import { TenantContext } from '../../../libs/database';
import { decodeCursor, encodeCursor, FieldError, ProblemException } from '../../../libs/http';
import { MetricsService } from '../../../libs/observability';
import { UploadOutcomes } from './upload-outcomes';
import {
  checkTicketRow,
  MAX_TICKETS_PER_UPLOAD,
  REQUIRED_TICKET_FIELDS,
  TICKET_FIELDS,
  TicketBatchDto,
  TicketDto,
  TicketFieldProblem,
  TicketListQueryDto,
  TicketPageDto,
  TicketUploadResultDto,
  TicketValues,
} from './dto/ticket.dto';
import { Ticket } from './entities/ticket.entity';
import { readCsvTable } from './ticket-csv';

type Source = 'json' | 'csv';

/** A field error that also says where in the upload it is. */
interface RowError extends FieldError {
  /** JSON: 1-based position in `tickets`. CSV: spreadsheet row (header = 1); null for a syntax error. */
  row: number | null;
  column: string | null;
  /** CSV only: physical line. */
  line?: number;
}

interface CheckedRow {
  values?: TicketValues;
  problems: TicketFieldProblem[];
  /** The row's driver id when it is a UUID, even if another field is invalid. */
  driverId?: string;
  locate: (column: string | null) => Pick<RowError, 'field' | 'row' | 'column' | 'line'>;
}

/**
 * Rows per multi-row INSERT (8 parameters each, far below PostgreSQL's 65,535 limit). Measured on
 * 5,000 rows: 1,000-row chunks took about 130 ms, one 5,000-row statement about 190 ms, 250-row
 * chunks about 150 ms.
 */
const INSERT_CHUNK = 1000;
/** Casts of the 8 per-row parameters, in INSERT column order after org_id. */
const COLUMN_CASTS = ['text', 'uuid', 'date', 'numeric', 'numeric', 'numeric', 'numeric', 'bigint'];
/** A 5,000-row file with a systematic mistake would otherwise answer with 5,000 errors. */
const MAX_LISTED_ERRORS = 100;

export function toTicketDto(t: Ticket): TicketDto {
  return {
    id: t.id,
    ticket_number: t.ticketNumber,
    driver_id: t.driverId,
    work_date: t.workDate,
    hours: t.hours,
    tons: t.tons,
    yards: t.yards,
    loads: t.loads,
    revenue_cents: t.revenueCents === null ? null : Number(t.revenueCents),
    created_at: t.createdAt.toISOString(),
  };
}

@Injectable()
export class TicketsService {
  private readonly uploads: Counter<'result' | 'source'>;

  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
    private readonly outcomes: UploadOutcomes,
    metrics: MetricsService,
  ) {
    this.uploads = metrics.counter(
      'payroll_ticket_uploads_total',
      'Ticket uploads (JSON batches and CSV files) by result (accepted, rejected) and source (json, csv).',
      ['result', 'source'],
    );
  }

  async createBatch(principal: Principal, body: TicketBatchDto, requestId?: string): Promise<TicketUploadResultDto> {
    const count = body.tickets.length;
    if (count < 1 || count > MAX_TICKETS_PER_UPLOAD) {
      this.reject('json', [
        { field: 'tickets', row: null, column: null, message: `must hold 1 to ${MAX_TICKETS_PER_UPLOAD} tickets` },
      ]);
    }
    const rows = body.tickets.map((raw, index): CheckedRow => {
      const prefix = `tickets[${index}]`;
      return {
        ...checkTicketRow(raw, false),
        driverId: uuidOrUndefined((raw as { driver_id?: unknown } | null)?.driver_id),
        locate: (column) => ({ field: column ? `${prefix}.${column}` : prefix, row: index + 1, column }),
      };
    });
    const ids = await this.insertAll('json', rows, principal, requestId);
    return { inserted: ids.length, ticket_ids: ids };
  }

  async uploadCsv(principal: Principal, body: unknown, requestId?: string): Promise<TicketUploadResultDto> {
    if (typeof body !== 'string' || !body.trim()) {
      this.reject('csv', [
        { field: 'body', row: null, column: null, message: 'send the CSV file as the request body' },
      ]);
    }
    const table = readCsvTable(body, {
      columns: TICKET_FIELDS,
      required: REQUIRED_TICKET_FIELDS,
      maxRows: MAX_TICKETS_PER_UPLOAD,
    });
    if (!table.ok) {
      this.reject(
        'csv',
        table.problems.map((p) => ({ ...csvLocation(p.row, p.line, p.column), message: p.message })),
      );
    }
    const rows = table.rows.map((r): CheckedRow => ({
      ...checkTicketRow(r.values, true),
      driverId: uuidOrUndefined(r.values.driver_id),
      locate: (column) => csvLocation(r.row, r.line, column),
    }));
    const ids = await this.insertAll('csv', rows, principal, requestId);
    return { inserted: ids.length };
  }

  async list(query: TicketListQueryDto): Promise<TicketPageDto> {
    const limit = query.limit ?? 50;
    const { driver_id: driverId, work_date_from: from, work_date_to: to } = query;
    if (from && to && from > to) {
      throw new ProblemException(400, 'work_date_from is after work_date_to.', {
        errors: [{ field: 'work_date_from', message: 'must not be after work_date_to' }],
      });
    }
    // Keyset on (work_date, id), the order of the payroll_tickets_org_date index, newest day first.
    const qb = this.tenant
      .repo(Ticket)
      .createQueryBuilder('t')
      .where('t.org_id = :org', { org: this.tenant.orgId })
      .orderBy('t.work_date', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(limit + 1);
    if (driverId) qb.andWhere('t.driver_id = :driverId', { driverId });
    if (from) qb.andWhere('t.work_date >= :from', { from });
    if (to) qb.andWhere('t.work_date <= :to', { to });
    const after = decodeCursor(query.cursor);
    if (after) {
      qb.andWhere('(t.work_date, t.id) < (:day, :id)', { day: after.at.slice(0, 10), id: after.id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toTicketDto),
      next_cursor:
        rows.length > limit && last ? encodeCursor({ at: new Date(`${last.workDate}T00:00:00Z`), id: last.id }) : null,
    };
  }

  /** All or nothing: any problem refuses the whole upload before a single row is written. */
  private async insertAll(source: Source, rows: CheckedRow[], principal: Principal, requestId?: string) {
    // One pass reports both kinds of error: what is wrong in a row, and a driver that is not
    // the org's (checked for every row whose driver id is at least a UUID).
    // Row-level security hides other orgs' drivers, so theirs and non-existent ids look alike.
    const wanted = [...new Set(rows.map((r) => r.driverId).filter((id): id is string => id !== undefined))];
    const found = wanted.length
      ? ((await this.tenant.manager.query('SELECT id FROM payroll_drivers WHERE org_id = $1 AND id = ANY($2::uuid[])', [
          this.tenant.orgId,
          wanted,
        ])) as { id: string }[])
      : [];
    const known = new Set(found.map((d) => d.id));
    const checked = rows.map((r) =>
      r.driverId !== undefined && !known.has(r.driverId) && !r.problems.some((p) => p.column === 'driver_id')
        ? { ...r, problems: [...r.problems, { column: 'driver_id', message: 'is not a driver of this org' }] }
        : r,
    );
    const invalid = checked.filter((r) => r.problems.length);
    if (invalid.length) this.reject(source, rowErrors(invalid), invalid.length, rows.length);
    const values = rows.map((r) => r.values!);

    const ids: string[] = [];
    for (let start = 0; start < values.length; start += INSERT_CHUNK) {
      ids.push(...(await this.insertChunk(values.slice(start, start + INSERT_CHUNK))));
    }
    await this.audit.record({
      action: 'payroll.tickets.imported',
      ...auditActor(principal),
      targetType: 'payroll_ticket',
      data: { count: ids.length, source, first_ticket_id: ids[0], last_ticket_id: ids[ids.length - 1] },
      requestId,
    });
    const orgId = this.tenant.orgId;
    this.tenant.onCommit(() => {
      this.uploads.inc({ result: 'accepted', source });
      this.outcomes.record(orgId, 'accepted');
    });
    return ids;
  }

  /** One multi-row INSERT; RETURNING yields the ids in VALUES order. */
  private async insertChunk(chunk: TicketValues[]): Promise<string[]> {
    const params: unknown[] = [this.tenant.orgId];
    const tuples = chunk.map((v) => {
      const at = params.length;
      params.push(v.ticket_number, v.driver_id, v.work_date, v.hours, v.tons, v.yards, v.loads, v.revenue_cents);
      return `($1, ${COLUMN_CASTS.map((cast, i) => `$${at + i + 1}::${cast}`).join(', ')})`;
    });
    const inserted = (await this.tenant.manager.query(
      `INSERT INTO payroll_tickets (org_id, ticket_number, driver_id, work_date, hours, tons, yards, loads, revenue_cents)
       VALUES ${tuples.join(', ')} RETURNING id`,
      params,
    )) as { id: string }[];
    return inserted.map((r) => r.id);
  }

  private reject(source: Source, errors: RowError[], invalidRows?: number, totalRows?: number): never {
    this.uploads.inc({ result: 'rejected', source });
    this.outcomes.record(this.tenant.orgId, 'rejected');
    const listed = errors.slice(0, MAX_LISTED_ERRORS);
    const detail =
      invalidRows === undefined
        ? `The upload is invalid: ${listed.map((e) => e.field).join(', ')}. Nothing was written.`
        : `${invalidRows} of ${totalRows} ${totalRows === 1 ? 'row' : 'rows'} ${invalidRows === 1 ? 'is' : 'are'} invalid; nothing was written.`;
    throw new ProblemException(400, detail, {
      errors: listed,
      ...(invalidRows === undefined ? {} : { invalid_rows: invalidRows }),
      errors_truncated: errors.length > listed.length,
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value.trim()) ? value.trim().toLowerCase() : undefined;
}

function rowErrors(rows: CheckedRow[]): RowError[] {
  return rows.flatMap((r) =>
    r.problems.map((p) => ({ ...r.locate(p.column || null), message: `${p.column || 'row'} ${p.message}` })),
  );
}

/** CSV errors read `row 4: hours` (spreadsheet row); a syntax error has only its `line 7`. */
function csvLocation(row: number | null, line: number, column: string | null) {
  const where = row === null ? `line ${line}` : `row ${row}`;
  return { field: column ? `${where}: ${column}` : where, row, column, line };
}
