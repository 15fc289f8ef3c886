import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  IsDecimalField,
  parseCentsField,
  parseDecimalField,
  PERCENT_SPEC,
  QUANTITY_SPEC,
  RATE_SPEC,
} from './decimal-fields';

const ok = (value: string) => ({ ok: true, value });
const fails = (pattern: RegExp) => ({ ok: false, message: expect.stringMatching(pattern) });

describe('parseDecimalField', () => {
  it.each([
    ['12.3456', '12.3456'],
    ['0', '0'],
    ['007.50', '007.50'],
    ['9999999999.9999', '9999999999.9999'],
  ])('accepts the string %s as is', (input, value) => {
    expect(parseDecimalField(input, RATE_SPEC)).toEqual(ok(value));
  });

  it('accepts numbers through their JSON text', () => {
    expect(parseDecimalField(25.5, RATE_SPEC)).toEqual(ok('25.5'));
    expect(parseDecimalField(0, RATE_SPEC)).toEqual(ok('0'));
    expect(parseDecimalField(-0, RATE_SPEC)).toEqual(ok('0'));
    expect(parseDecimalField(12.3456, RATE_SPEC)).toEqual(ok('12.3456'));
  });

  it('refuses more decimal places than the column holds, as strings and as numbers', () => {
    expect(parseDecimalField('12.34567', RATE_SPEC)).toEqual(fails(/at most 4 decimal places/));
    expect(parseDecimalField('12.30000', RATE_SPEC)).toEqual(fails(/at most 4 decimal places/));
    expect(parseDecimalField(12.34567, RATE_SPEC)).toEqual(fails(/at most 4 decimal places/));
    expect(parseDecimalField(0.1 + 0.2, RATE_SPEC)).toEqual(fails(/decimal places/));
    expect(parseDecimalField('1.2345', QUANTITY_SPEC)).toEqual(fails(/at most 3 decimal places/));
  });

  it('refuses exponents, signs, blanks and other shapes', () => {
    for (const input of [
      1e-7,
      1e21,
      '1e-7',
      '1E3',
      '+1',
      ' 1',
      '1 ',
      '',
      '.5',
      '5.',
      '1,5',
      '0x10',
      'NaN',
      'Infinity',
    ]) {
      expect(parseDecimalField(input, RATE_SPEC).ok).toBe(false);
    }
    expect(parseDecimalField(Number.NaN, RATE_SPEC)).toEqual(fails(/finite/));
    expect(parseDecimalField(Number.POSITIVE_INFINITY, RATE_SPEC)).toEqual(fails(/finite/));
    for (const input of [null, undefined, true, {}, ['1']]) expect(parseDecimalField(input, RATE_SPEC).ok).toBe(false);
  });

  it('names negatives plainly', () => {
    expect(parseDecimalField(-1, RATE_SPEC)).toEqual(fails(/must not be negative/));
    expect(parseDecimalField('-0.5', QUANTITY_SPEC)).toEqual(fails(/must not be negative/));
  });

  it('refuses values the numeric column would overflow on, ignoring leading zeros', () => {
    expect(parseDecimalField('10000000000', RATE_SPEC)).toEqual(fails(/at most 10 digits/));
    expect(parseDecimalField('0000000000001.5', RATE_SPEC)).toEqual(ok('0000000000001.5'));
    expect(parseDecimalField('1000000000', QUANTITY_SPEC)).toEqual(fails(/at most 9 digits/));
  });

  it('applies exclusive minimums and maximums without floats', () => {
    expect(parseDecimalField('0', PERCENT_SPEC)).toEqual(fails(/greater than 0/));
    expect(parseDecimalField('0.0001', PERCENT_SPEC)).toEqual(ok('0.0001'));
    expect(parseDecimalField('100', PERCENT_SPEC)).toEqual(ok('100'));
    expect(parseDecimalField('100.0001', PERCENT_SPEC)).toEqual(fails(/at most 100/));
    expect(parseDecimalField(150, PERCENT_SPEC)).toEqual(fails(/at most 100/));
  });
});

describe('parseCentsField', () => {
  it('accepts non-negative safe integers', () => {
    expect(parseCentsField(0)).toEqual({ ok: true, value: 0 });
    expect(parseCentsField(Number.MAX_SAFE_INTEGER)).toEqual({ ok: true, value: Number.MAX_SAFE_INTEGER });
  });

  it('refuses fractions, unsafe integers, negatives and strings from JSON', () => {
    expect(parseCentsField(1.5).ok).toBe(false);
    expect(parseCentsField(Number.MAX_SAFE_INTEGER + 1).ok).toBe(false);
    expect(parseCentsField(-1)).toEqual({ ok: false, message: 'must not be negative' });
    expect(parseCentsField('100').ok).toBe(false);
    expect(parseCentsField(0, { min: 1 })).toEqual({ ok: false, message: 'must be at least 1' });
  });

  it('reads digit strings when the source is text (CSV)', () => {
    expect(parseCentsField('12500', { textual: true })).toEqual({ ok: true, value: 12500 });
    expect(parseCentsField('-5', { textual: true })).toEqual({ ok: false, message: 'must not be negative' });
    for (const text of ['1.0', '1e3', ' 1', '99999999999999999']) {
      expect(parseCentsField(text, { textual: true }).ok).toBe(false);
    }
  });
});

describe('IsDecimalField', () => {
  class Body {
    @IsDecimalField(RATE_SPEC)
    rate!: unknown;
  }

  it('reports the field with the parser message', () => {
    const errors = validateSync(plainToInstance(Body, { rate: '12.34567' }));
    expect(errors).toHaveLength(1);
    expect(errors[0].property).toBe('rate');
    expect(Object.values(errors[0].constraints ?? {})).toEqual(['rate allows at most 4 decimal places']);
    expect(validateSync(plainToInstance(Body, { rate: '12.3456' }))).toEqual([]);
  });
});
