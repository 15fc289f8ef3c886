import { parseDate, periodDays } from './dates';
import { finalizeLine } from './flags';
import { decimalText, parseOptionalCents, parseQuantity, parseRate } from './parse';
import { Dec, roundHalfUpCents, roundHalfUpToCents } from './rounding';
import type { DriverInput, FlagCode, PayLine, PayType, Period, QuantityUnit, TicketInput } from './types';

/** The ticket measure each unit-priced pay type multiplies by the rate. */
export const QUANTITY_UNIT_BY_PAY_TYPE: Readonly<Partial<Record<PayType, QuantityUnit>>> = {
  hourly: 'hours',
  per_ton: 'tons',
  per_yard: 'yards',
  per_load: 'loads',
};

/** A rate of 0 is as unusable as no rate: both would silently pay nothing. */
export function usableRate(driver: DriverInput): Dec | null {
  const rate = parseRate(driver.rate, `rate of driver ${driver.id}`);
  return rate === null || rate.isZero() ? null : rate;
}

type LineBase = Pick<PayLine, 'driverId' | 'ticketId' | 'ticketNumber' | 'workDate' | 'kind' | 'ticketHours'>;

/** Salary pay is the salary line; the tickets are recorded (and checked for duplicates) at zero. */
function salaryTicketLine(base: LineBase, codes: FlagCode[]): PayLine {
  return finalizeLine({ ...base, quantity: null, unit: null, rate: null, amountCents: 0 }, codes, {
    zeroAmountExempt: true,
  });
}

/** revenue_cents × rate / 100, already in cents. Percentage pay needs revenue, not a quantity. */
function percentageLine(
  base: LineBase,
  ticket: TicketInput,
  rate: Dec | null,
  rateText: string | null,
  codes: FlagCode[],
) {
  const revenue = parseOptionalCents(ticket.revenueCents, `revenueCents of ticket ${ticket.id}`);
  if (revenue === null) {
    codes.push('MISSING_REVENUE');
  }
  const amountCents = revenue !== null && rate !== null ? roundHalfUpCents(rate.times(revenue).dividedBy(100)) : 0;
  const quantity = revenue === null ? null : String(revenue);
  return finalizeLine({ ...base, quantity, unit: 'revenue_cents', rate: rateText, amountCents }, codes);
}

/**
 * One ticket's pay line. It depends on nothing but the driver and the ticket, so lines can be
 * produced page by page at checkpoints and stored; every cross-ticket rule lives in
 * driverStatement, which sees all of a driver's lines at once.
 */
export function ticketLine(driver: DriverInput, ticket: TicketInput): PayLine {
  if (ticket.driverId !== driver.id) {
    throw new Error(`ticket ${ticket.id} belongs to driver ${ticket.driverId}, not ${driver.id}`);
  }
  parseDate(ticket.workDate);
  const hours = parseQuantity(ticket.hours, `hours of ticket ${ticket.id}`);
  const base: LineBase = {
    driverId: driver.id,
    ticketId: ticket.id,
    ticketNumber: ticket.ticketNumber,
    workDate: ticket.workDate,
    kind: 'ticket',
    ticketHours: hours === null ? null : decimalText(hours),
  };
  const codes: FlagCode[] = ticket.duplicate ? ['DUPLICATE_TICKET'] : [];
  if (driver.payType === 'salary') {
    return salaryTicketLine(base, codes);
  }

  const rate = usableRate(driver);
  const rawRate = parseRate(driver.rate);
  // Keep "0" visible on the line when that is what was configured; null stays null.
  const rateText = rawRate === null ? null : decimalText(rawRate);
  if (rate === null) {
    codes.push('MISSING_RATE');
  }
  if (driver.payType === 'percentage') {
    return percentageLine(base, ticket, rate, rateText, codes);
  }

  const unit = QUANTITY_UNIT_BY_PAY_TYPE[driver.payType];
  if (unit === undefined) {
    throw new Error(`unknown pay type "${String(driver.payType)}" for driver ${driver.id}`);
  }
  const quantity = unit === 'hours' ? hours : parseQuantity(ticket[unit], `${unit} of ticket ${ticket.id}`);
  if (quantity === null) {
    codes.push('MISSING_QUANTITY');
  }
  // A held line still shows what it would pay when both factors are known.
  const amountCents = quantity !== null && rate !== null ? roundHalfUpToCents(quantity.times(rate)) : 0;
  return finalizeLine(
    { ...base, quantity: quantity === null ? null : decimalText(quantity), unit, rate: rateText, amountCents },
    codes,
  );
}

/**
 * The single salary line of a run: rate is dollars per 7 days, prorated by the calendar days of
 * the period (inclusive), rounded once. Null for every other pay type.
 */
export function salaryLine(driver: DriverInput, period: Period): PayLine | null {
  if (driver.payType !== 'salary') {
    return null;
  }
  const days = periodDays(period);
  const rate = usableRate(driver);
  const rawRate = parseRate(driver.rate);
  const amountCents = rate === null ? 0 : roundHalfUpToCents(rate.times(days).dividedBy(7));
  return finalizeLine(
    {
      driverId: driver.id,
      ticketId: null,
      ticketNumber: null,
      workDate: null,
      kind: 'salary',
      quantity: String(days),
      unit: 'days',
      rate: rawRate === null ? null : decimalText(rawRate),
      amountCents,
    },
    rate === null ? ['MISSING_RATE'] : [],
  );
}
