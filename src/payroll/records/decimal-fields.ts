import { Decimal } from 'decimal.js';
import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * How a decimal field of a request is checked before it reaches a `numeric(p, s)` column.
 * `places` is the column scale; `integerDigits` is precision minus scale, so a value PostgreSQL
 * would reject with "numeric field overflow" (a 500) is a 400 here instead.
 */
export interface DecimalSpec {
  places: number;
  integerDigits: number;
  /** Smallest allowed value; `exclusive` makes it a strict bound (percent must be > 0). */
  min?: { value: string; exclusive?: boolean };
  max?: string;
}

export type FieldResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Plain decimal text: digits, optionally a dot and at least one digit. No sign, exponent or spaces. */
const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export const RATE_SPEC: DecimalSpec = { places: 4, integerDigits: 10, min: { value: '0' } };
export const QUANTITY_SPEC: DecimalSpec = { places: 3, integerDigits: 9, min: { value: '0' } };
export const PERCENT_SPEC: DecimalSpec = {
  places: 4,
  integerDigits: 3,
  min: { value: '0', exclusive: true },
  max: '100',
};

/**
 * Reads a decimal given as a JSON string or number and returns its canonical text for SQL.
 * Strings are checked as text, never through a float. Numbers go through `String(n)`, which is
 * exactly what JSON.parse produced: `1e-7` or `0.30000000000000004` then fail the same grammar
 * and precision checks a string would, instead of being silently rounded.
 */
export function parseDecimalField(input: unknown, spec: DecimalSpec): FieldResult<string> {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, message: 'must be a finite decimal number' };
    text = String(input);
  } else return { ok: false, message: 'must be a decimal given as a string or a number' };

  if (/^-\d/.test(text)) return { ok: false, message: 'must not be negative' };
  const match = PLAIN_DECIMAL.exec(text);
  if (!match) return { ok: false, message: 'must be a plain decimal like "12.5" (no sign, exponent or spaces)' };
  const [, whole, fraction = ''] = match;
  if (fraction.length > spec.places) {
    return { ok: false, message: `allows at most ${spec.places} decimal places` };
  }
  if (whole.replace(/^0+(?=\d)/, '').length > spec.integerDigits) {
    return { ok: false, message: `allows at most ${spec.integerDigits} digits before the decimal point` };
  }
  const value = new Decimal(text);
  if (spec.min) {
    const min = new Decimal(spec.min.value);
    if (spec.min.exclusive ? value.lte(min) : value.lt(min)) {
      return { ok: false, message: `must be ${spec.min.exclusive ? 'greater than' : 'at least'} ${spec.min.value}` };
    }
  }
  if (spec.max !== undefined && value.gt(spec.max)) return { ok: false, message: `must be at most ${spec.max}` };
  return { ok: true, value: text };
}

/**
 * Integer cents. JSON callers send a number; CSV cells arrive as text, so `textual` also
 * accepts a string of digits. Either way the result must be a safe integer.
 */
export function parseCentsField(
  input: unknown,
  options: { textual?: boolean; min?: number } = {},
): FieldResult<number> {
  const min = options.min ?? 0;
  let value: number;
  if (typeof input === 'number') value = input;
  else if (options.textual && typeof input === 'string' && /^-?\d{1,16}$/.test(input)) value = Number(input);
  else return { ok: false, message: 'must be an integer number of cents' };
  if (!Number.isSafeInteger(value)) return { ok: false, message: 'must be a safe integer number of cents' };
  if (value < min) return { ok: false, message: min === 0 ? 'must not be negative' : `must be at least ${min}` };
  return { ok: true, value };
}

/**
 * class-validator decorator for DTO fields checked by `parseDecimalField`, so the global
 * ValidationPipe names the field in `errors[]` like any other bad input.
 */
export function IsDecimalField(spec: DecimalSpec, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDecimalField',
      validator: {
        validate: (value: unknown): boolean => parseDecimalField(value, spec).ok,
        defaultMessage: (args?: ValidationArguments): string => {
          const result = parseDecimalField(args?.value, spec);
          return `${args?.property ?? 'value'} ${result.ok ? 'is invalid' : result.message}`;
        },
      },
    },
    options,
  );
}
