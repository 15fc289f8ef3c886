import { Dec } from './rounding';
import { mergeFlags } from './flags';
import { parseQuantity } from './parse';
import type { FlagCode, PayLine, QuantityUnit, TicketInput } from './types';

/** More than this many hours on one work date is implausible enough to review. */
export const EXCESSIVE_HOURS_PER_DAY = 14;
/** A quantity above this multiple of the driver's median for the unit is flagged... */
export const OUTLIER_MULTIPLE = 3;
/** ...but only once the driver has this many tickets with the unit, so the median means something. */
export const OUTLIER_MIN_TICKETS = 5;

const AGGREGATE_CODES: ReadonlySet<FlagCode> = new Set<FlagCode>(['EXCESSIVE_HOURS', 'QUANTITY_OUTLIER']);
const QUANTITY_UNITS: ReadonlySet<string> = new Set<QuantityUnit>(['hours', 'tons', 'yards', 'loads']);

/**
 * Hours a ticket line stands for, whatever the pay type. Lines from ticketLine carry them in
 * ticketHours; the map (and an hourly line's own quantity) only serve lines stored without it.
 */
function lineHours(line: PayLine, ticketsById?: ReadonlyMap<string, TicketInput>): Dec | null {
  if (line.ticketHours !== undefined) {
    return parseQuantity(line.ticketHours, 'hours');
  }
  const ticket = line.ticketId === null ? undefined : ticketsById?.get(line.ticketId);
  if (ticket) {
    return parseQuantity(ticket.hours, 'hours');
  }
  return line.unit === 'hours' ? parseQuantity(line.quantity, 'hours') : null;
}

function groupIndexes(lines: readonly PayLine[], keyOf: (line: PayLine) => string | null): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  lines.forEach((line, index) => {
    const key = keyOf(line);
    const group = key === null ? undefined : groups.get(key);
    if (group) {
      group.push(index);
    } else if (key !== null) {
      groups.set(key, [index]);
    }
  });
  return groups;
}

/** Indexes of ticket lines on a (driver, work date) whose hours, all tickets summed, exceed the limit. */
function excessiveHours(lines: readonly PayLine[], ticketsById?: ReadonlyMap<string, TicketInput>): Set<number> {
  const flagged = new Set<number>();
  const byDay = groupIndexes(lines, (l) =>
    l.kind === 'ticket' && l.workDate !== null ? JSON.stringify([l.driverId, l.workDate]) : null,
  );
  for (const indexes of byDay.values()) {
    const total = indexes.reduce((sum, i) => sum.plus(lineHours(lines[i], ticketsById) ?? 0), new Dec(0));
    if (total.greaterThan(EXCESSIVE_HOURS_PER_DAY)) {
      indexes.forEach((i) => flagged.add(i));
    }
  }
  return flagged;
}

function median(values: readonly Dec[]): Dec {
  const sorted = [...values].sort((a, b) => a.comparedTo(b));
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : sorted[mid - 1].plus(sorted[mid]).dividedBy(2);
}

/**
 * Indexes of ticket lines whose pay quantity exceeds OUTLIER_MULTIPLE × the driver's median for
 * that unit. Only quantity units count: revenue is money, and a large job is not a data error.
 */
function quantityOutliers(lines: readonly PayLine[]): Set<number> {
  const flagged = new Set<number>();
  const byUnit = groupIndexes(lines, (l) =>
    l.kind === 'ticket' && l.unit !== null && QUANTITY_UNITS.has(l.unit) && l.quantity !== null
      ? JSON.stringify([l.driverId, l.unit])
      : null,
  );
  for (const indexes of byUnit.values()) {
    if (indexes.length < OUTLIER_MIN_TICKETS) {
      continue;
    }
    const quantities = indexes.map((i) => new Dec(lines[i].quantity as string));
    const limit = median(quantities).times(OUTLIER_MULTIPLE);
    indexes.forEach((i, k) => {
      if (quantities[k].greaterThan(limit)) {
        flagged.add(i);
      }
    });
  }
  return flagged;
}

/**
 * Adds the flags that need every ticket line of a driver (EXCESSIVE_HOURS, QUANTITY_OUTLIER).
 * Both are warnings, so `held` never changes. Earlier aggregate flags are dropped first: the
 * result depends only on the set of lines, which keeps re-aggregating a resumed run idempotent.
 */
export function aggregateFlags(lines: PayLine[], ticketsById?: Map<string, TicketInput>): PayLine[] {
  const base = lines.map((l) => ({ ...l, flags: l.flags.filter((f) => !AGGREGATE_CODES.has(f.code)) }));
  const excessive = excessiveHours(base, ticketsById);
  const outliers = quantityOutliers(base);
  return base.map((line, i) => {
    const codes: FlagCode[] = [];
    if (excessive.has(i)) codes.push('EXCESSIVE_HOURS');
    if (outliers.has(i)) codes.push('QUANTITY_OUTLIER');
    return codes.length === 0 ? line : { ...line, flags: mergeFlags(line.flags, codes) };
  });
}
