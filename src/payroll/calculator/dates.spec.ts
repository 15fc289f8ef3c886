import { inPeriod, isoWeek, parseDate, periodDays } from './dates';

describe('isoWeek', () => {
  it('runs Monday to Sunday', () => {
    expect(isoWeek('2026-11-16')).toBe('2026-W47'); // Monday
    expect(isoWeek('2026-11-22')).toBe('2026-W47'); // Sunday
    expect(isoWeek('2026-11-23')).toBe('2026-W48'); // next Monday
  });

  it('assigns a week to the year of its Thursday', () => {
    expect(isoWeek('2020-12-31')).toBe('2020-W53');
    expect(isoWeek('2021-01-03')).toBe('2020-W53');
    expect(isoWeek('2021-01-04')).toBe('2021-W01');
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
    expect(isoWeek('2026-01-01')).toBe('2026-W01');
    expect(isoWeek('2027-01-01')).toBe('2026-W53');
  });

  it('rejects malformed and impossible dates', () => {
    expect(() => isoWeek('2026-2-1')).toThrow(RangeError);
    expect(() => isoWeek('2026-02-30')).toThrow(/not a calendar date/);
    expect(() => parseDate('2026-13-01')).toThrow(RangeError);
    expect(() => parseDate('2026-11-16T00:00:00Z')).toThrow(RangeError);
  });
});

describe('periodDays', () => {
  it('counts calendar days inclusively', () => {
    expect(periodDays({ start: '2026-11-16', end: '2026-11-29' })).toBe(14);
    expect(periodDays({ start: '2026-01-01', end: '2026-01-31' })).toBe(31);
    expect(periodDays({ start: '2026-03-05', end: '2026-03-05' })).toBe(1);
    expect(periodDays({ start: '2024-02-01', end: '2024-02-29' })).toBe(29);
  });

  it('is not fooled by daylight-saving changes', () => {
    expect(periodDays({ start: '2026-03-01', end: '2026-03-31' })).toBe(31);
    expect(periodDays({ start: '2026-10-20', end: '2026-11-09' })).toBe(21);
  });

  it('rejects a period that ends before it starts', () => {
    expect(() => periodDays({ start: '2026-11-29', end: '2026-11-16' })).toThrow(RangeError);
  });
});

describe('inPeriod', () => {
  it('includes both ends', () => {
    const period = { start: '2026-11-18', end: '2026-11-29' };
    expect(inPeriod('2026-11-18', period)).toBe(true);
    expect(inPeriod('2026-11-29', period)).toBe(true);
    expect(inPeriod('2026-11-17', period)).toBe(false);
    expect(inPeriod('2026-11-30', period)).toBe(false);
  });
});
