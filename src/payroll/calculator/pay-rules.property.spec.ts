import fc from 'fast-check';
import { isoWeek } from './dates';
import { overtimeLines } from './overtime';
import { salaryLine, ticketLine } from './pay-rules';
import { roundHalfUpToCents } from './rounding';
import type { DriverInput, PayType } from './types';

// Each property runs hundreds of generated runs; the default 5 s is too tight on a loaded CI box.
jest.setTimeout(60_000);

/**
 * An independent model of every amount in exact integer (BigInt) arithmetic: rates are scaled
 * by 10^4, quantities by 10^3, and half-up division is floor((2n + d) / 2d). If decimal.js use
 * ever slipped into floats or rounded twice, these would disagree.
 */
const halfUp = (num: bigint, den: bigint): number => Number((2n * num + den) / (2n * den));

function scaled(text: string, places: number): bigint {
  const [int, frac = ''] = text.split('.');
  return BigInt(int + frac.padEnd(places, '0'));
}

function decimalText(max: number, places: number): fc.Arbitrary<string> {
  return fc.integer({ min: 0, max: max * 10 ** places }).map((n) => {
    const digits = String(n).padStart(places + 1, '0');
    return `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  });
}

const rateArb = decimalText(500, 4).filter((r) => scaled(r, 4) > 0n);
const DAY_MS = 86_400_000;
const dateAt = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const base = { id: 't', ticketNumber: 'N', driverId: 'd', workDate: '2026-11-16', duplicate: false };
const RUNS = { numRuns: 500 };

describe('amounts against an exact integer model', () => {
  it('roundHalfUpToCents rounds dollars to cents half-up', () => {
    fc.assert(
      fc.property(decimalText(1_000_000, 8), (dollars) => {
        expect(roundHalfUpToCents(dollars)).toBe(halfUp(scaled(dollars, 8), 1_000_000n));
      }),
      RUNS,
    );
  });

  it('unit pay: quantity × rate, rounded once', () => {
    const unitTypes = fc.constantFrom<PayType>('hourly', 'per_ton', 'per_yard', 'per_load');
    fc.assert(
      fc.property(unitTypes, rateArb, decimalText(2000, 3), (payType, rate, quantity) => {
        const driver: DriverInput = { id: 'd', payType, rate, overtimeExempt: false };
        const field = { hourly: 'hours', per_ton: 'tons', per_yard: 'yards', per_load: 'loads' }[payType as string];
        const line = ticketLine(driver, { ...base, [field as string]: quantity });
        expect(line.amountCents).toBe(halfUp(scaled(quantity, 3) * scaled(rate, 4), 100_000n));
      }),
      RUNS,
    );
  });

  it('percentage pay: revenue_cents × rate / 100, rounded once', () => {
    fc.assert(
      fc.property(decimalText(100, 4), fc.nat({ max: 10_000_000_000 }), (rate, revenueCents) => {
        const driver: DriverInput = { id: 'd', payType: 'percentage', rate, overtimeExempt: false };
        const line = ticketLine(driver, { ...base, revenueCents });
        const expected = scaled(rate, 4) === 0n ? 0 : halfUp(BigInt(revenueCents) * scaled(rate, 4), 1_000_000n);
        expect(line.amountCents).toBe(expected);
      }),
      RUNS,
    );
  });

  it('salary: rate × days / 7, rounded once', () => {
    fc.assert(
      fc.property(rateArb, fc.nat({ max: 3000 }), fc.integer({ min: 1, max: 400 }), (rate, offset, days) => {
        const start = Date.UTC(2025, 0, 1) + offset * DAY_MS;
        const period = { start: dateAt(start), end: dateAt(start + (days - 1) * DAY_MS) };
        const driver: DriverInput = { id: 'd', payType: 'salary', rate, overtimeExempt: false };
        expect(salaryLine(driver, period)?.amountCents).toBe(halfUp(scaled(rate, 4) * BigInt(days), 700n));
      }),
      RUNS,
    );
  });

  it('overtime: 0.5 × rate × (week hours − 40) per ISO week, rounded once per week', () => {
    const dayHours = fc.array(fc.tuple(fc.nat({ max: 20 }), decimalText(16, 3)), { maxLength: 40, size: 'max' });
    fc.assert(
      fc.property(rateArb, fc.nat({ max: 800 }), dayHours, (rate, offset, worked) => {
        const start = Date.UTC(2025, 0, 1) + offset * DAY_MS;
        const period = { start: dateAt(start), end: dateAt(start + 20 * DAY_MS) };
        const driver: DriverInput = { id: 'd', payType: 'hourly', rate, overtimeExempt: false };
        const lines = worked.map(([day, hours], i) =>
          ticketLine(driver, { ...base, id: `t${i}`, workDate: dateAt(start + day * DAY_MS), hours }),
        );
        const weekly = new Map<string, bigint>();
        for (const [day, hours] of worked) {
          const week = isoWeek(dateAt(start + day * DAY_MS));
          weekly.set(week, (weekly.get(week) ?? 0n) + scaled(hours, 3));
        }
        const expected = [...weekly.entries()]
          .filter(([, h]) => h > 40_000n)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([week, h]) => [week, halfUp((h - 40_000n) * scaled(rate, 4), 200_000n)]);
        const actual = overtimeLines(driver, lines, period).map((l) => [l.isoWeek, l.amountCents]);
        expect(actual).toEqual(expected);
      }),
      RUNS,
    );
  });
});
