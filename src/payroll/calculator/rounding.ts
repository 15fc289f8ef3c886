import { Decimal } from 'decimal.js';

/**
 * A private Decimal constructor: the global one may be reconfigured elsewhere in the process,
 * and payroll must not change results because some other module called Decimal.set(). 40
 * significant digits keep salary's "/ 7" far from any half-cent boundary it does not truly sit on.
 */
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Dec = Decimal;

function toCents(cents: Decimal): number {
  if (cents.isNegative() && !cents.isZero()) {
    // Amounts are never negative by construction; a negative one means corrupt input upstream.
    throw new RangeError(`payroll amount must not be negative: ${cents.toFixed()} cents`);
  }
  const rounded = cents.toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  const value = rounded.toNumber();
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`payroll amount out of range: ${rounded.toFixed()} cents`);
  }
  // `+ 0` turns a Decimal -0 into 0 so deep equality (Object.is) never sees a signed zero.
  return value + 0;
}

/** Dollars → integer cents, half-up. The only place a line amount is rounded. */
export function roundHalfUpToCents(dollars: Decimal | string): number {
  return toCents(new Dec(dollars).times(100));
}

/** A value already in cents (percentages of cents) → integer cents, half-up. */
export function roundHalfUpCents(cents: Decimal | string): number {
  return toCents(new Dec(cents));
}

/**
 * Sum of integer cents. Integers below 2^53 add exactly in JS numbers; the check makes an
 * overflow loud instead of silently losing a cent.
 */
export function sumCents(values: readonly number[]): number {
  let total = 0;
  for (const v of values) {
    total += v;
  }
  if (!Number.isSafeInteger(total)) {
    throw new RangeError(`payroll total out of range: ${total}`);
  }
  return total;
}
