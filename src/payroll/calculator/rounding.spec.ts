import { Decimal } from 'decimal.js';
import { decimalText, parseOptionalCents, parseQuantity, parseRate } from './parse';
import { Dec, roundHalfUpCents, roundHalfUpToCents, sumCents } from './rounding';

describe('roundHalfUpToCents', () => {
  it('converts whole cents exactly', () => {
    expect(roundHalfUpToCents('10.05')).toBe(1005);
    expect(roundHalfUpToCents('0')).toBe(0);
    expect(roundHalfUpToCents('1234567.89')).toBe(123456789);
  });

  it('rounds exactly half a cent up, where float arithmetic would round down', () => {
    // 1.005 * 100 is 100.49999999999999 in floats; the decimal value is exactly 100.5 cents.
    expect(roundHalfUpToCents('1.005')).toBe(101);
    expect(roundHalfUpToCents('0.145')).toBe(15);
    expect(roundHalfUpToCents('0.005')).toBe(1);
    expect(roundHalfUpToCents('0.025')).toBe(3);
  });

  it('rounds below half down and above half up', () => {
    expect(roundHalfUpToCents('0.0125')).toBe(1);
    expect(roundHalfUpToCents('0.00499999')).toBe(0);
    expect(roundHalfUpToCents('0.00500001')).toBe(1);
    expect(roundHalfUpToCents('0.0175')).toBe(2);
  });

  it('accepts Decimal instances, including ones from the global constructor', () => {
    expect(roundHalfUpToCents(new Decimal('0.125').times('0.1'))).toBe(1);
    expect(roundHalfUpToCents(new Dec('2.675'))).toBe(268);
  });

  it('is unaffected by a reconfigured global Decimal', () => {
    const saved = { precision: Decimal.precision, rounding: Decimal.rounding };
    try {
      Decimal.set({ precision: 3, rounding: Decimal.ROUND_DOWN });
      expect(roundHalfUpToCents('1234.565')).toBe(123457);
    } finally {
      Decimal.set(saved);
    }
  });

  it('rejects negative and unrepresentable amounts', () => {
    expect(() => roundHalfUpToCents('-0.01')).toThrow(RangeError);
    expect(() => roundHalfUpToCents('1e20')).toThrow(RangeError);
  });
});

describe('roundHalfUpCents', () => {
  it('rounds fractional cents half-up', () => {
    expect(roundHalfUpCents('0.915')).toBe(1);
    expect(roundHalfUpCents('0.5')).toBe(1);
    expect(roundHalfUpCents('1.5')).toBe(2);
    expect(roundHalfUpCents('0.4999')).toBe(0);
    expect(roundHalfUpCents('37036.8')).toBe(37037);
  });

  it('never returns a signed zero', () => {
    expect(Object.is(roundHalfUpCents('-0'), 0)).toBe(true);
  });
});

describe('sumCents', () => {
  it('adds integer cents and refuses to lose precision', () => {
    expect(sumCents([1, 2, 3])).toBe(6);
    expect(sumCents([])).toBe(0);
    expect(() => sumCents([Number.MAX_SAFE_INTEGER, 1])).toThrow(RangeError);
  });
});

describe('decimal parsing', () => {
  it('treats null, undefined and empty text as absent', () => {
    expect(parseRate(null)).toBeNull();
    expect(parseRate(undefined)).toBeNull();
    expect(parseQuantity('', 'hours')).toBeNull();
    expect(parseOptionalCents(null, 'revenue')).toBeNull();
  });

  it('accepts up to 4 places for rates and 3 for quantities, ignoring trailing zeros', () => {
    expect(decimalText(parseRate('12.3456') as Dec)).toBe('12.3456');
    expect(decimalText(parseQuantity('1.500000', 'hours') as Dec)).toBe('1.5');
    expect(() => parseRate('1.23456')).toThrow(/at most 4 decimal places/);
    expect(() => parseQuantity('1.2345', 'tons')).toThrow(/at most 3 decimal places/);
  });

  it('rejects malformed or negative text instead of guessing', () => {
    for (const bad of ['-1', '1e3', 'abc', ' 1', '1.', '.5', '1,5', 'NaN', 'Infinity']) {
      expect(() => parseRate(bad)).toThrow(RangeError);
    }
  });

  it('rejects negative, fractional or unsafe cents', () => {
    expect(() => parseOptionalCents(-1, 'revenue')).toThrow(RangeError);
    expect(() => parseOptionalCents(1.5, 'revenue')).toThrow(RangeError);
    expect(() => parseOptionalCents(2 ** 53, 'revenue')).toThrow(RangeError);
    expect(() => parseOptionalCents(NaN, 'revenue')).toThrow(RangeError);
  });
});
