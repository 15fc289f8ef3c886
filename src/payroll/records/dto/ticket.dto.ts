import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsOptional, IsUUID, ValidateBy, ValidationOptions } from 'class-validator';
import { PageQueryDto } from '../../../../libs/http';
import { parseCentsField, parseDecimalField, QUANTITY_SPEC } from '../decimal-fields';

export const MAX_TICKETS_PER_UPLOAD = 5000;
export const TICKET_FIELDS = [
  'ticket_number',
  'driver_id',
  'work_date',
  'hours',
  'tons',
  'yards',
  'loads',
  'revenue_cents',
] as const;
export type TicketField = (typeof TICKET_FIELDS)[number];
export const REQUIRED_TICKET_FIELDS: readonly TicketField[] = ['ticket_number', 'driver_id', 'work_date'];
const QUANTITY_FIELDS = ['hours', 'tons', 'yards', 'loads'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TICKET_NUMBER_LENGTH = 100;

/**
 * `YYYY-MM-DD` naming a real calendar day. Years before 1900 are refused: they are typing
 * mistakes in payroll data, and PostgreSQL rejects year 0 outright.
 */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || value < '1900') return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCalendarDate',
      validator: {
        validate: (value: unknown) => isCalendarDate(value),
        defaultMessage: () => '$property must be a calendar date YYYY-MM-DD',
      },
    },
    options,
  );
}

/** A ticket row after validation, ready for the INSERT. */
export interface TicketValues {
  ticket_number: string;
  driver_id: string;
  work_date: string;
  hours: string | null;
  tons: string | null;
  yards: string | null;
  loads: string | null;
  revenue_cents: number | null;
}

export interface TicketFieldProblem {
  column: string;
  message: string;
}

/**
 * Checks one ticket row from either route. `textual` is set for CSV rows, whose cells are all
 * strings (so revenue_cents may be digits); JSON rows must send it as a number. In JSON an
 * optional field given as null counts as absent, like an empty CSV cell.
 */
export function checkTicketRow(
  raw: unknown,
  textual: boolean,
): { values?: TicketValues; problems: TicketFieldProblem[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { problems: [{ column: '', message: 'must be an object' }] };
  }
  const row = raw as Record<string, unknown>;
  const problems: TicketFieldProblem[] = [];
  const fail = (column: string, message: string) => problems.push({ column, message });
  for (const key of Object.keys(row)) {
    if (!(TICKET_FIELDS as readonly string[]).includes(key)) fail(key, 'is not a ticket field');
  }
  const given = (value: unknown) => value !== undefined && value !== null && value !== '';
  for (const key of REQUIRED_TICKET_FIELDS) if (!given(row[key])) fail(key, 'is required');

  const { ticket_number: ticketNumber, driver_id: driverId, work_date: workDate } = row;
  if (given(ticketNumber)) {
    if (typeof ticketNumber !== 'string' || !ticketNumber.trim()) fail('ticket_number', 'must be a non-blank string');
    else if (ticketNumber.length > MAX_TICKET_NUMBER_LENGTH) {
      fail('ticket_number', `must be at most ${MAX_TICKET_NUMBER_LENGTH} characters`);
    }
  }
  if (given(driverId) && (typeof driverId !== 'string' || !UUID.test(driverId))) fail('driver_id', 'must be a UUID');
  if (given(workDate) && !isCalendarDate(workDate)) fail('work_date', 'must be a calendar date YYYY-MM-DD');

  const quantities: Record<string, string | null> = {};
  for (const key of QUANTITY_FIELDS) {
    quantities[key] = null;
    if (row[key] === undefined || row[key] === null) continue;
    const parsed = parseDecimalField(row[key], QUANTITY_SPEC);
    if (parsed.ok) quantities[key] = parsed.value;
    else fail(key, parsed.message);
  }
  let revenue: number | null = null;
  if (row.revenue_cents !== undefined && row.revenue_cents !== null) {
    const parsed = parseCentsField(row.revenue_cents, { textual });
    if (parsed.ok) revenue = parsed.value;
    else fail('revenue_cents', parsed.message);
  }
  if (problems.length) return { problems };
  return {
    problems,
    values: {
      ticket_number: ticketNumber as string,
      driver_id: (driverId as string).toLowerCase(),
      work_date: workDate as string,
      hours: quantities.hours,
      tons: quantities.tons,
      yards: quantities.yards,
      loads: quantities.loads,
      revenue_cents: revenue,
    },
  };
}

const DECIMAL_DOC = { oneOf: [{ type: 'string' }, { type: 'number' }], nullable: true };

/** One ticket of a JSON batch (documentation; rows are checked by `checkTicketRow`). */
export class TicketInputDto {
  @ApiProperty({ maxLength: MAX_TICKET_NUMBER_LENGTH, example: 'T-10042' }) ticket_number!: string;
  @ApiProperty({ format: 'uuid', description: "A driver of the caller's org." }) driver_id!: string;
  @ApiProperty({ format: 'date', example: '2025-03-14' }) work_date!: string;
  @ApiPropertyOptional({ ...DECIMAL_DOC, example: '8.5', description: '≥ 0, at most 3 decimals' }) hours?: string;
  @ApiPropertyOptional({ ...DECIMAL_DOC, example: '22.125' }) tons?: string;
  @ApiPropertyOptional({ ...DECIMAL_DOC }) yards?: string;
  @ApiPropertyOptional({ ...DECIMAL_DOC, example: 3 }) loads?: string;
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, example: 125000 }) revenue_cents?: number;
}

export class TicketBatchDto {
  @ApiProperty({
    type: [TicketInputDto],
    minItems: 1,
    maxItems: MAX_TICKETS_PER_UPLOAD,
    description:
      'All or nothing: any invalid row refuses the whole batch (400) with errors[] entries whose field is ' +
      '`tickets[<0-based index>].<field>` and whose `row` is the 1-based position.',
  })
  @IsArray()
  tickets!: unknown[];
}

export class TicketUploadResultDto {
  @ApiProperty() inserted!: number;
  @ApiPropertyOptional({
    type: [String],
    description: 'Ids in input order (JSON route only).',
  })
  ticket_ids?: string[];
}

export class TicketListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  driver_id?: string;

  @ApiPropertyOptional({ format: 'date', description: 'Inclusive.' })
  @IsOptional()
  @IsCalendarDate()
  work_date_from?: string;

  @ApiPropertyOptional({ format: 'date', description: 'Inclusive.' })
  @IsOptional()
  @IsCalendarDate()
  work_date_to?: string;
}

export class TicketDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() ticket_number!: string;
  @ApiProperty({ format: 'uuid' }) driver_id!: string;
  @ApiProperty({ format: 'date' }) work_date!: string;
  @ApiProperty({ type: String, nullable: true, example: '8.500' }) hours!: string | null;
  @ApiProperty({ type: String, nullable: true }) tons!: string | null;
  @ApiProperty({ type: String, nullable: true }) yards!: string | null;
  @ApiProperty({ type: String, nullable: true }) loads!: string | null;
  @ApiProperty({ type: Number, nullable: true }) revenue_cents!: number | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class TicketPageDto {
  @ApiProperty({ type: [TicketDto] }) items!: TicketDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
