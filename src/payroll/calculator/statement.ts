import { aggregateFlags } from './aggregate-flags';
import { periodDays } from './dates';
import { applyDeductions } from './deductions';
import { mergeFlags } from './flags';
import { overtimeLines } from './overtime';
import { salaryLine } from './pay-rules';
import { decimalText, parseQuantity, parseRate } from './parse';
import { Dec, sumCents } from './rounding';
import type { DeductionInput, DriverInput, DriverStatement, LineKind, PayLine, Period } from './types';

const KIND_ORDER: Readonly<Record<LineKind, number>> = { ticket: 0, overtime: 1, salary: 2 };

/** null sorts first; plain code-unit comparison, because localeCompare depends on the host's ICU. */
function compareNullable(a: string | null | undefined, b: string | null | undefined): number {
  const [x, y] = [a ?? null, b ?? null];
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  return x < y ? -1 : 1;
}

/** Statement order: kind, work date, ticket number, ticket id (ISO week orders overtime lines). */
export function compareLines(a: PayLine, b: PayLine): number {
  return (
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    compareNullable(a.workDate, b.workDate) ||
    compareNullable(a.ticketNumber, b.ticketNumber) ||
    compareNullable(a.ticketId, b.ticketId) ||
    compareNullable(a.isoWeek, b.isoWeek)
  );
}

function canonicalText(value: string | null, parse: (v: string) => Dec | null): string | null {
  const parsed = value === null ? null : parse(value);
  return parsed === null ? null : decimalText(parsed);
}

/**
 * Stored lines come back with database-padded decimals ("8.500", "22.7500") and flags in
 * whatever order the store kept; rewriting them in the canonical form ticketLine produces keeps a
 * resumed run equal, field for field, to an uninterrupted one.
 */
function canonicalTicketLine(line: PayLine): PayLine {
  const what = `ticket ${String(line.ticketId)}`;
  const canonical: PayLine = {
    ...line,
    quantity: canonicalText(line.quantity, (v) => parseQuantity(v, `quantity of ${what}`)),
    rate: canonicalText(line.rate, (v) => parseRate(v, `rate of ${what}`)),
    flags: mergeFlags(line.flags, []),
  };
  if (line.ticketHours !== undefined) {
    canonical.ticketHours = canonicalText(line.ticketHours, (v) => parseQuantity(v, `hours of ${what}`));
  }
  return canonical;
}

/**
 * Rejects input that would make a statement silently wrong: another driver's lines or
 * deductions, or the same ticket twice (a resumed run that re-processed a page would otherwise
 * pay that page twice).
 */
function checkInputs(driver: DriverInput, ticketLines: readonly PayLine[], deductions: readonly DeductionInput[]) {
  const seen = new Set<string>();
  for (const line of ticketLines) {
    if (line.driverId !== driver.id) {
      throw new Error(`line of driver ${line.driverId} passed to the statement of driver ${driver.id}`);
    }
    if (line.ticketId === null || seen.has(line.ticketId)) {
      throw new Error(`ticket line without a unique ticketId (${String(line.ticketId)}) for driver ${driver.id}`);
    }
    seen.add(line.ticketId);
  }
  for (const d of deductions) {
    if (d.driverId !== driver.id) {
      throw new Error(`deduction ${d.id} of driver ${d.driverId} passed to the statement of driver ${driver.id}`);
    }
  }
}

/**
 * A driver's statement from their ticket lines (as ticketLine produced them, in any order).
 * Everything that needs all of the driver's tickets happens here — aggregate flags, overtime,
 * salary, totals, deductions — and lines are sorted, so the result depends only on the set of
 * ticket lines. That is what makes a checkpointed run equal an uninterrupted one.
 * Overtime and salary lines in the input are ignored and recomputed, so feeding a statement's
 * own lines back in gives the same statement.
 */
export function driverStatement(
  driver: DriverInput,
  lines: PayLine[],
  deductions: DeductionInput[],
  period: Period,
): DriverStatement {
  periodDays(period); // validates the period even for drivers whose pay does not use it
  const ticketLines = lines.filter((l) => l.kind === 'ticket').map(canonicalTicketLine);
  checkInputs(driver, ticketLines, deductions);

  const flagged = aggregateFlags(ticketLines);
  const salary = salaryLine(driver, period);
  const all = [...flagged, ...overtimeLines(driver, flagged, period), ...(salary ? [salary] : [])].sort(compareLines);

  const grossCents = sumCents(all.filter((l) => !l.held).map((l) => l.amountCents));
  const heldCents = sumCents(all.filter((l) => l.held).map((l) => l.amountCents));
  const result = applyDeductions(grossCents, deductions);
  return {
    driverId: driver.id,
    grossCents,
    heldCents,
    deductionsCents: result.deductionsCents,
    netCents: result.netCents,
    lines: all,
    deductions: result.applications,
    flags: result.flags,
  };
}
