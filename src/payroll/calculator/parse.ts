import { Dec } from './rounding';

/** Plain non-negative decimal text: digits, optionally a dot and more digits. */
const DECIMAL_TEXT = /^\d+(\.\d+)?$/;

/**
 * Parses an optional decimal string. null/undefined/'' mean "absent" (a flag decides what that
 * costs); anything present but malformed, negative or over-precise throws, because guessing would
 * pay someone a wrong amount silently.
 */
export function parseOptionalDecimal(value: string | null | undefined, label: string, maxPlaces: number): Dec | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  if (!DECIMAL_TEXT.test(value)) {
    throw new RangeError(`${label} must be a non-negative decimal string, got "${value}"`);
  }
  const parsed = new Dec(value);
  if (parsed.decimalPlaces() > maxPlaces) {
    throw new RangeError(`${label} allows at most ${maxPlaces} decimal places, got "${value}"`);
  }
  return parsed;
}

export const RATE_PLACES = 4;
export const QUANTITY_PLACES = 3;

export function parseRate(value: string | null | undefined, label = 'rate'): Dec | null {
  return parseOptionalDecimal(value, label, RATE_PLACES);
}

export function parseQuantity(value: string | null | undefined, label: string): Dec | null {
  return parseOptionalDecimal(value, label, QUANTITY_PLACES);
}

/** Non-negative safe integer of cents, or null when absent. */
export function parseOptionalCents(value: number | null | undefined, label: string): number | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${label} must be a non-negative integer of cents, got ${value}`);
  }
  return value;
}

export function requireCents(value: number, label: string): number {
  const parsed = parseOptionalCents(value, label);
  if (parsed === null) {
    throw new RangeError(`${label} is required`);
  }
  return parsed;
}

/** Canonical text of a decimal: no exponent, no trailing zeros, so equal values compare equal. */
export function decimalText(value: Dec): string {
  return value.toFixed();
}
