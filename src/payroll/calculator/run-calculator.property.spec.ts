import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { calculateRun } from './run-calculator';
import { ticketLine } from './pay-rules';
import { driverStatement } from './statement';
import type { DeductionInput, DriverInput, DriverStatement, PayLine, PayType, Period, TicketInput } from './types';

// Each property runs hundreds of generated runs; the default 5 s is too tight on a loaded CI box.
jest.setTimeout(60_000);

/**
 * Random runs: a few drivers of every pay type, tickets with any subset of measures (including
 * missing ones, zero rates and duplicates), and deductions with caps and carry-ins — so every
 * flag and every deduction limit is exercised, not only the happy path.
 */
interface Scenario {
  period: Period;
  drivers: DriverInput[];
  tickets: TicketInput[];
  deductions: DeductionInput[];
}

const DAY_MS = 86_400_000;
const dateAt = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Non-negative decimal text with up to `places` decimals (sometimes with trailing zeros). */
function decimalText(max: number, places: number): fc.Arbitrary<string> {
  return fc.integer({ min: 0, max: max * 10 ** places }).map((n) => {
    const digits = String(n).padStart(places + 1, '0');
    return `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  });
}

const payTypes: PayType[] = ['hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load'];
const rateArb = fc.option(
  fc.oneof({ arbitrary: decimalText(80, 4), weight: 8 }, { arbitrary: fc.constant('0'), weight: 1 }),
  {
    nil: null,
    freq: 8,
  },
);
// Hourly is weighted up: it is the only pay type with overtime, the most intricate rule.
const payTypeArb = fc.oneof({ arbitrary: fc.constant<PayType>('hourly'), weight: 3 }, fc.constantFrom(...payTypes));
const driverArb = fc.record({
  payType: payTypeArb,
  rate: rateArb,
  overtimeExempt: fc.nat({ max: 3 }).map((n) => n === 0),
});
/** Mostly ordinary quantities with the odd huge one, so QUANTITY_OUTLIER actually fires. */
const measure = (max: number) =>
  fc.option(
    fc.oneof({ arbitrary: decimalText(max, 3), weight: 9 }, { arbitrary: decimalText(max * 5, 3), weight: 1 }),
    {
      nil: null,
      freq: 6,
    },
  );

function ticketArb(driverCount: number, days: number) {
  return fc.record({
    driver: fc.nat({ max: driverCount - 1 }),
    day: fc.nat({ max: days - 1 }),
    ticketNumber: fc.nat({ max: 60 }).map((n) => `N${n}`),
    hours: measure(12),
    tons: measure(20),
    yards: measure(20),
    loads: measure(8),
    revenueCents: fc.option(fc.nat({ max: 500_000 }), { nil: null, freq: 6 }),
    duplicate: fc.nat({ max: 7 }).map((n) => n === 0),
  });
}

function deductionArb(driverCount: number) {
  return fc.record({
    driver: fc.nat({ max: driverCount - 1 }),
    kind: fc.constantFrom('fixed' as const, 'percent' as const),
    amountCents: fc.nat({ max: 80_000 }),
    percent: decimalText(60, 4),
    priority: fc.nat({ max: 3 }),
    createdAt: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01T02:00:00+02:00', '2026-03-01T12:00:00Z'),
    maxTotalCents: fc.option(fc.nat({ max: 150_000 }), { nil: null }),
    appliedToDateCents: fc.nat({ max: 100_000 }),
    carryInCents: fc.nat({ max: 30_000 }),
  });
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .tuple(
    fc.array(driverArb, { minLength: 1, maxLength: 4 }),
    fc.nat({ max: 400 }),
    // Short periods pack tickets densely enough for weekly overtime and daily hour limits.
    fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 35 })),
  )
  .chain(([driverFields, startOffset, days]) => {
    const start = Date.UTC(2026, 9, 1) + startOffset * DAY_MS;
    const period = { start: dateAt(start), end: dateAt(start + (days - 1) * DAY_MS) };
    const drivers = driverFields.map((f, i) => ({ id: `d${i}`, ...f }));
    return fc
      .record({
        tickets: fc.array(ticketArb(drivers.length, days), { maxLength: 80, size: 'max' }),
        deductions: fc.array(deductionArb(drivers.length), { maxLength: 6 }),
      })
      .map(({ tickets, deductions }) => ({
        period,
        drivers,
        tickets: tickets.map(({ driver, day, ...t }, i) => ({
          id: `t${i}`,
          driverId: `d${driver}`,
          workDate: dateAt(start + day * DAY_MS),
          ...t,
        })),
        deductions: deductions.map(({ driver, ...d }, i) => ({
          id: `x${i}`,
          driverId: `d${driver}`,
          name: `x${i}`,
          ...d,
        })),
      }));
  });

/** A line as it comes back from the database: JSON flags, numeric columns padded to their scale. */
function storedForm(line: PayLine): PayLine {
  const pad = (value: string | null | undefined, places: number) =>
    value === null || value === undefined ? value : new Decimal(value).toFixed(places);
  const copy = JSON.parse(JSON.stringify(line)) as PayLine;
  return {
    ...copy,
    quantity: pad(line.quantity, 3) ?? null,
    rate: pad(line.rate, 4) ?? null,
    ticketHours: pad(line.ticketHours, 3),
  };
}

/** Deterministic shuffle from a fast-check seed, so failures shrink and replay. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const run = (s: Scenario) => calculateRun(s.period, s.drivers, s.tickets, s.deductions);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const RUNS = { numRuns: 200 };

describe('calculator properties', () => {
  it('the generator reaches every flag, overtime, salary, caps and shortfalls (no vacuous properties)', () => {
    const seen = new Set<string>();
    for (const s of fc.sample(scenarioArb, { numRuns: 300, seed: 20261116 })) {
      for (const st of run(s).statements) {
        st.flags.forEach((f) => seen.add(f.code));
        st.lines.forEach((l) => [...l.flags.map((f) => f.code), l.kind].forEach((k) => seen.add(k)));
        st.deductions.forEach((d) => d.cappedCents < d.wantedCents && seen.add('capped'));
      }
    }
    const expected = ['MISSING_QUANTITY', 'MISSING_REVENUE', 'MISSING_RATE', 'DUPLICATE_TICKET', 'ZERO_AMOUNT'];
    expected.push('EXCESSIVE_HOURS', 'QUANTITY_OUTLIER', 'NET_SHORTFALL', 'overtime', 'salary', 'capped');
    expect(expected.filter((k) => !seen.has(k))).toEqual([]);
  });

  it('gross is the sum of non-held lines; held lines only count in held', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        for (const st of run(s).statements) {
          expect(st.grossCents).toBe(sum(st.lines.filter((l) => !l.held).map((l) => l.amountCents)));
          expect(st.heldCents).toBe(sum(st.lines.filter((l) => l.held).map((l) => l.amountCents)));
          for (const line of st.lines) {
            expect(line.held).toBe(line.flags.some((f) => f.severity === 'blocking'));
            expect(Number.isSafeInteger(line.amountCents) && line.amountCents >= 0).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it('net = gross − deductions ≥ 0, and every deduction respects its cap and the net', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const result = run(s);
        for (const st of result.statements) {
          expect(st.netCents).toBe(st.grossCents - st.deductionsCents);
          expect(st.netCents).toBeGreaterThanOrEqual(0);
          expect(st.deductionsCents).toBe(sum(st.deductions.map((d) => d.appliedCents)));
          for (const d of st.deductions) {
            const input = s.deductions.find((x) => x.id === d.deductionId) as DeductionInput;
            const capLeft =
              input.maxTotalCents == null ? Infinity : Math.max(0, input.maxTotalCents - input.appliedToDateCents);
            expect(d.cappedCents).toBe(Math.min(d.wantedCents, capLeft));
            expect(d.appliedCents).toBeLessThanOrEqual(d.cappedCents);
            expect(d.shortfallCents).toBe(d.cappedCents - d.appliedCents);
            if (d.shortfallCents > 0) expect(st.netCents).toBe(0);
          }
          const short = st.deductions.some((d) => d.shortfallCents > 0);
          expect(st.flags.map((f) => f.code)).toEqual(short ? ['NET_SHORTFALL'] : []);
        }
        const totals = result.totals;
        expect(totals.grossCents).toBe(sum(result.statements.map((st) => st.grossCents)));
        expect(totals.netCents).toBe(totals.grossCents - totals.deductionsCents);
        expect(totals.heldCents).toBe(sum(result.statements.map((st) => st.heldCents)));
      }),
      RUNS,
    );
  });

  it('a newly held ticket changes held, never gross, deductions or net', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ticketArb(1, 1), (s, pick, extra) => {
        const driver = s.drivers[pick % s.drivers.length];
        const { driver: _d, day: _day, ...fields } = extra;
        const held = { ...fields, id: 'held', driverId: driver.id, workDate: s.period.start, duplicate: true };
        const before = run(s);
        const after = run({ ...s, tickets: [...s.tickets, held] });
        const line = ticketLine(driver, held);
        after.statements.forEach((st, i) => {
          const prior = before.statements[i];
          expect([st.grossCents, st.deductionsCents, st.netCents]).toEqual([
            prior.grossCents,
            prior.deductionsCents,
            prior.netCents,
          ]);
          expect(st.heldCents).toBe(prior.heldCents + (st.driverId === driver.id ? line.amountCents : 0));
        });
      }),
      RUNS,
    );
  });

  it('the order of drivers, tickets and deductions changes nothing', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), (s, seed) => {
        const shuffled = {
          ...s,
          drivers: shuffle(s.drivers, seed),
          tickets: shuffle(s.tickets, seed + 1),
          deductions: shuffle(s.deductions, seed + 2),
        };
        expect(run(shuffled)).toEqual(run(s));
      }),
      RUNS,
    );
  });

  it('ticketLine in random pages (stored and reloaded) + driverStatement equals calculateRun', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1 }),
        (s, seed, sizes) => {
          // Checkpointed run: pages in any order, each line persisted (JSON) the moment it is made.
          const stored = new Map<string, PayLine[]>();
          const pending = shuffle(s.tickets, seed);
          for (let page = 0; pending.length > 0; page += 1) {
            for (const ticket of pending.splice(0, sizes[page % sizes.length])) {
              const driver = s.drivers.find((d) => d.id === ticket.driverId) as DriverInput;
              const line = storedForm(ticketLine(driver, ticket));
              stored.set(driver.id, [...(stored.get(driver.id) ?? []), line]);
            }
          }
          const resumed: DriverStatement[] = [...s.drivers]
            .sort((a, b) => (a.id < b.id ? -1 : 1))
            .map((d) => {
              const own = s.deductions.filter((x) => x.driverId === d.id);
              return driverStatement(d, shuffle(stored.get(d.id) ?? [], seed + 7), own, s.period);
            });
          expect(resumed).toEqual(run(s).statements);
        },
      ),
      RUNS,
    );
  });

  it('run flag counts are the flag instances of lines and statements', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const result = run(s);
        const all = result.statements.flatMap((st) => [...st.flags, ...st.lines.flatMap((l) => l.flags)]);
        expect(result.flags).toEqual({
          blocking: all.filter((f) => f.severity === 'blocking').length,
          warning: all.filter((f) => f.severity === 'warning').length,
        });
      }),
      RUNS,
    );
  });
});
