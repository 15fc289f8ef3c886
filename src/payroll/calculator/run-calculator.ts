import { countFlags } from './flags';
import { ticketLine } from './pay-rules';
import { sumCents } from './rounding';
import { driverStatement } from './statement';
import type { DeductionInput, DriverInput, PayLine, Period, RunResult, TicketInput } from './types';

function indexUnique<T extends { id: string }>(items: readonly T[], what: string): Map<string, T> {
  const byId = new Map<string, T>();
  for (const item of items) {
    if (byId.has(item.id)) {
      throw new Error(`${what} ${item.id} appears twice in the run input`);
    }
    byId.set(item.id, item);
  }
  return byId;
}

function groupByDriver<T extends { driverId: string; id: string }>(
  items: readonly T[],
  drivers: ReadonlyMap<string, DriverInput>,
  what: string,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    if (!drivers.has(item.driverId)) {
      throw new Error(`${what} ${item.id} belongs to driver ${item.driverId}, who is not in the run`);
    }
    const group = groups.get(item.driverId);
    if (group) {
      group.push(item);
    } else {
      groups.set(item.driverId, [item]);
    }
  }
  return groups;
}

/**
 * A whole run in one call: ticketLine per ticket, then driverStatement per driver — the very
 * same composition a checkpointed run uses, so the two cannot drift apart. Every driver gets a
 * statement (a salaried driver without tickets is still paid; deductions still come due).
 * Statements are ordered by driver id, independent of input order.
 */
export function calculateRun(
  period: Period,
  drivers: DriverInput[],
  tickets: TicketInput[],
  deductions: DeductionInput[],
): RunResult {
  const driversById = indexUnique(drivers, 'driver');
  indexUnique(tickets, 'ticket');
  indexUnique(deductions, 'deduction');
  const ticketsByDriver = groupByDriver(tickets, driversById, 'ticket');
  const deductionsByDriver = groupByDriver(deductions, driversById, 'deduction');

  const statements = [...driversById.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((driver) => {
      const lines: PayLine[] = (ticketsByDriver.get(driver.id) ?? []).map((t) => ticketLine(driver, t));
      return driverStatement(driver, lines, deductionsByDriver.get(driver.id) ?? [], period);
    });

  const flags = { blocking: 0, warning: 0 };
  for (const s of statements) {
    countFlags(s.flags, flags);
    s.lines.forEach((l) => countFlags(l.flags, flags));
  }
  return {
    statements,
    totals: {
      grossCents: sumCents(statements.map((s) => s.grossCents)),
      deductionsCents: sumCents(statements.map((s) => s.deductionsCents)),
      netCents: sumCents(statements.map((s) => s.netCents)),
      heldCents: sumCents(statements.map((s) => s.heldCents)),
    },
    flags,
  };
}
