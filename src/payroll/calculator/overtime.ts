import { inPeriod, isoWeek } from './dates';
import { finalizeLine } from './flags';
import { usableRate } from './pay-rules';
import { decimalText, parseRate } from './parse';
import { Dec, roundHalfUpToCents } from './rounding';
import type { DriverInput, PayLine, Period } from './types';

/** Straight-time hours per ISO week; anything above earns the overtime premium. */
export const WEEKLY_OVERTIME_THRESHOLD_HOURS = 40;
/** The premium on top of the already-paid straight rate ("time and a half"). */
export const OVERTIME_PREMIUM = new Dec('0.5');

/**
 * Overtime premium lines of a non-exempt hourly driver: one per ISO week (Monday–Sunday by work
 * date) whose non-held hours exceed 40. Held tickets do not count — they are not being paid.
 * The hours above 40 were already paid at the straight rate on their ticket lines, so this line
 * adds only 0.5 × rate per overtime hour, rounded once for the week.
 *
 * `period` (optional, added to the brief's signature) restricts the count to tickets inside the
 * pay period, so the part of a week that lies in a neighbouring period never counts here.
 * driverStatement always passes it.
 */
export function overtimeLines(driver: DriverInput, ticketLines: PayLine[], period?: Period): PayLine[] {
  if (driver.payType !== 'hourly' || driver.overtimeExempt) {
    return [];
  }
  const hoursByWeek = new Map<string, Dec>();
  for (const line of ticketLines) {
    const counts =
      line.kind === 'ticket' &&
      line.driverId === driver.id &&
      !line.held &&
      line.unit === 'hours' &&
      line.quantity !== null &&
      line.workDate !== null &&
      (period === undefined || inPeriod(line.workDate, period));
    if (counts) {
      const week = isoWeek(line.workDate as string);
      hoursByWeek.set(week, (hoursByWeek.get(week) ?? new Dec(0)).plus(line.quantity as string));
    }
  }

  const rate = usableRate(driver);
  const rawRate = parseRate(driver.rate);
  const premiumRate = rawRate === null ? null : rawRate.times(OVERTIME_PREMIUM);
  return [...hoursByWeek.entries()]
    .filter(([, hours]) => hours.greaterThan(WEEKLY_OVERTIME_THRESHOLD_HOURS))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([week, hours]) => {
      const overtime = hours.minus(WEEKLY_OVERTIME_THRESHOLD_HOURS);
      // Ticket lines of a driver without a rate are already held, so this only bites if lines
      // were produced under a different rate; the same blocking rule then holds the premium too.
      const amountCents = rate === null ? 0 : roundHalfUpToCents(overtime.times(rate).times(OVERTIME_PREMIUM));
      return finalizeLine(
        {
          driverId: driver.id,
          ticketId: null,
          ticketNumber: null,
          workDate: null,
          kind: 'overtime',
          quantity: decimalText(overtime),
          unit: 'hours',
          rate: premiumRate === null ? null : decimalText(premiumRate),
          amountCents,
          isoWeek: week,
        },
        rate === null ? ['MISSING_RATE'] : [],
      );
    });
}
