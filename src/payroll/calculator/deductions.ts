import { flag } from './flags';
import { parseOptionalCents, parseOptionalDecimal, requireCents } from './parse';
import { Dec, roundHalfUpCents, sumCents } from './rounding';
import type { DeductionApplication, DeductionInput, DeductionResult } from './types';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** created_at compares as an instant when both parse (offsets differ), else as text. */
function compareCreatedAt(a: string, b: string): number {
  const [ta, tb] = [Date.parse(a), Date.parse(b)];
  if (Number.isFinite(ta) && Number.isFinite(tb) && ta !== tb) {
    return ta - tb;
  }
  return Number.isFinite(ta) && Number.isFinite(tb) ? 0 : compareText(a, b);
}

/** (priority asc, created_at asc, id asc): earlier, more important deductions get the net first. */
export function compareDeductions(a: DeductionInput, b: DeductionInput): number {
  return a.priority - b.priority || compareCreatedAt(a.createdAt, b.createdAt) || compareText(a.id, b.id);
}

/** This run's own amount, before carry-in, cap and net limits. */
function baseAmountCents(grossCents: number, d: DeductionInput): number {
  if (d.kind === 'fixed') {
    const amount = parseOptionalCents(d.amountCents, `amountCents of deduction ${d.id}`);
    if (amount === null) {
      throw new RangeError(`fixed deduction ${d.id} has no amountCents`);
    }
    return amount;
  }
  if (d.kind === 'percent') {
    const percent = parseOptionalDecimal(d.percent, `percent of deduction ${d.id}`, 4);
    if (percent === null) {
      throw new RangeError(`percent deduction ${d.id} has no percent`);
    }
    return roundHalfUpCents(new Dec(grossCents).times(percent).dividedBy(100));
  }
  throw new RangeError(`unknown deduction kind "${String(d.kind)}" of deduction ${d.id}`);
}

/**
 * Applies a driver's deductions to gross in priority order. Per deduction:
 * wanted = own amount + carried-in shortfall; capped = wanted limited by what is left of
 * max_total (that part is simply not taken); applied = capped limited by the net still left
 * (the rest is a shortfall, carried to the next run, and raises NET_SHORTFALL). Net never goes
 * below zero because every application is bounded by what is left.
 */
export function applyDeductions(grossCents: number, deductions: DeductionInput[]): DeductionResult {
  requireCents(grossCents, 'grossCents');
  let remaining = grossCents;
  const applications: DeductionApplication[] = [...deductions].sort(compareDeductions).map((d) => {
    const carryIn = requireCents(d.carryInCents, `carryInCents of deduction ${d.id}`);
    const appliedToDate = requireCents(d.appliedToDateCents, `appliedToDateCents of deduction ${d.id}`);
    const maxTotal = parseOptionalCents(d.maxTotalCents, `maxTotalCents of deduction ${d.id}`);
    const wantedCents = sumCents([baseAmountCents(grossCents, d), carryIn]);
    const capLeft = maxTotal === null ? Infinity : Math.max(0, maxTotal - appliedToDate);
    const cappedCents = Math.min(wantedCents, capLeft);
    const appliedCents = Math.min(cappedCents, remaining);
    remaining -= appliedCents;
    return {
      deductionId: d.id,
      name: d.name,
      wantedCents,
      cappedCents,
      appliedCents,
      shortfallCents: cappedCents - appliedCents,
    };
  });
  const deductionsCents = sumCents(applications.map((a) => a.appliedCents));
  const shortfall = applications.some((a) => a.shortfallCents > 0);
  return {
    applications,
    deductionsCents,
    netCents: grossCents - deductionsCents,
    flags: shortfall ? [flag('NET_SHORTFALL')] : [],
  };
}
