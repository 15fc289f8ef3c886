/**
 * Plain data shapes of the payroll calculator. Nothing here knows about Nest, TypeORM or HTTP:
 * the persistence layer maps rows to these shapes and back, so the arithmetic can be tested and
 * replayed (checkpointed runs) without a database.
 */

export type PayType = 'hourly' | 'percentage' | 'salary' | 'per_yard' | 'per_ton' | 'per_load';

export type FlagCode =
  | 'MISSING_QUANTITY'
  | 'MISSING_REVENUE'
  | 'MISSING_RATE'
  | 'DUPLICATE_TICKET'
  | 'ZERO_AMOUNT'
  | 'EXCESSIVE_HOURS'
  | 'QUANTITY_OUTLIER'
  | 'NET_SHORTFALL';

export type FlagSeverity = 'blocking' | 'warning';

export interface Flag {
  code: FlagCode;
  severity: FlagSeverity;
}

export interface DriverInput {
  id: string;
  payType: PayType;
  /** Decimal string, at most 4 decimal places; null or "0" means the rate is missing. */
  rate: string | null;
  overtimeExempt: boolean;
}

export interface TicketInput {
  id: string;
  ticketNumber: string;
  driverId: string;
  /** YYYY-MM-DD */
  workDate: string;
  /** Quantities are decimal strings with at most 3 decimal places. */
  hours?: string | null;
  tons?: string | null;
  yards?: string | null;
  loads?: string | null;
  revenueCents?: number | null;
  /** Set by the caller when this ticket_number occurs more than once in the org. */
  duplicate: boolean;
}

export type LineKind = 'ticket' | 'overtime' | 'salary';

export type LineUnit = 'hours' | 'tons' | 'yards' | 'loads' | 'revenue_cents' | 'days';

/** The quantity units a ticket can carry (revenue is money, not a quantity). */
export type QuantityUnit = 'hours' | 'tons' | 'yards' | 'loads';

export interface PayLine {
  driverId: string;
  ticketId: string | null;
  ticketNumber: string | null;
  workDate: string | null;
  kind: LineKind;
  quantity: string | null;
  unit: LineUnit | null;
  rate: string | null;
  amountCents: number;
  held: boolean;
  flags: Flag[];
  /** ISO week of an overtime line, e.g. 2026-W47. */
  isoWeek?: string;
  /**
   * The ticket's recorded hours whatever the pay type (ticket lines only). A per-ton driver's
   * line carries tons as its quantity, yet EXCESSIVE_HOURS looks at hours, so the hours travel
   * with the line: that keeps driverStatement computable from stored lines alone.
   */
  ticketHours?: string | null;
}

export interface DeductionInput {
  id: string;
  driverId: string;
  name: string;
  kind: 'fixed' | 'percent';
  amountCents?: number | null;
  percent?: string | null;
  priority: number;
  createdAt: string;
  maxTotalCents?: number | null;
  appliedToDateCents: number;
  carryInCents: number;
}

export interface DeductionApplication {
  deductionId: string;
  name: string;
  /** This run's amount plus the carried-in shortfall. */
  wantedCents: number;
  /** wantedCents limited by what is left of the cumulative cap. */
  cappedCents: number;
  appliedCents: number;
  /** cappedCents that did not fit in the net; carried to the next run. */
  shortfallCents: number;
}

export interface DriverStatement {
  driverId: string;
  grossCents: number;
  heldCents: number;
  deductionsCents: number;
  netCents: number;
  lines: PayLine[];
  deductions: DeductionApplication[];
  /** Statement-level flags, e.g. NET_SHORTFALL. */
  flags: Flag[];
}

/** Inclusive dates, YYYY-MM-DD. */
export interface Period {
  start: string;
  end: string;
}

export interface DeductionResult {
  applications: DeductionApplication[];
  deductionsCents: number;
  netCents: number;
  flags: Flag[];
}

export interface RunTotals {
  grossCents: number;
  deductionsCents: number;
  netCents: number;
  heldCents: number;
}

export interface RunResult {
  statements: DriverStatement[];
  totals: RunTotals;
  /** Flag instances over every line and statement of the run. */
  flags: { blocking: number; warning: number };
}
