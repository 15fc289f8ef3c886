import { Decimal } from 'decimal.js';
import { ticketLine } from './pay-rules';
import { driverStatement } from './statement';
import type { DeductionInput, DriverInput, FlagCode, PayLine, Period, TicketInput } from './types';

const period: Period = { start: '2026-11-16', end: '2026-11-29' };
const hourly: DriverInput = { id: 'd1', payType: 'hourly', rate: '20', overtimeExempt: false };

function t(id: string, fields: Partial<TicketInput> = {}): TicketInput {
  return { id, ticketNumber: id.toUpperCase(), driverId: 'd1', workDate: '2026-11-16', duplicate: false, ...fields };
}

function deduction(id: string, amountCents: number, fields: Partial<DeductionInput> = {}): DeductionInput {
  return {
    id,
    driverId: 'd1',
    name: id,
    kind: 'fixed',
    amountCents,
    priority: 1,
    createdAt: '2026-01-01T00:00:00Z',
    appliedToDateCents: 0,
    carryInCents: 0,
    ...fields,
  };
}

const lineCodes = (lines: PayLine[]): FlagCode[][] => lines.map((l) => l.flags.map((f) => f.code));

describe('driverStatement', () => {
  it('sorts lines by kind, work date, ticket number, ticket id; overtime by week', () => {
    const tickets = [
      t('t5', { workDate: '2026-11-24', hours: '41' }),
      t('t3', { ticketNumber: 'A2', hours: '1' }),
      t('t2', { ticketNumber: 'A10', hours: '1', duplicate: true }),
      t('t1', { ticketNumber: 'A10', hours: '1', duplicate: true }),
      t('t4', { workDate: '2026-11-17', hours: '40' }),
    ];
    const statement = driverStatement(
      hourly,
      tickets.map((tk) => ticketLine(hourly, tk)),
      [],
      period,
    );
    expect(statement.lines.map((l) => [l.kind, l.ticketId ?? l.isoWeek])).toEqual([
      ['ticket', 't1'],
      ['ticket', 't2'],
      ['ticket', 't3'],
      ['ticket', 't4'],
      ['ticket', 't5'],
      ['overtime', '2026-W47'],
      ['overtime', '2026-W48'],
    ]);
  });

  it('holds blocking lines out of gross but counts them in held; pays warnings', () => {
    const tickets = [
      t('ok', { hours: '8' }), // 16000
      t('dup', { hours: '5', duplicate: true }), // held 10000
      t('nohours', {}), // held 0
      t('zero', { hours: '0', workDate: '2026-11-17' }), // paid 0, ZERO_AMOUNT
      t('long1', { hours: '9', workDate: '2026-11-18' }), // 18000 EXCESSIVE_HOURS
      t('long2', { hours: '6', workDate: '2026-11-18' }), // 12000 EXCESSIVE_HOURS
    ];
    const statement = driverStatement(
      hourly,
      tickets.map((tk) => ticketLine(hourly, tk)),
      [],
      period,
    );
    expect(statement.lines.map((l) => [l.ticketId, l.held, l.amountCents])).toEqual([
      ['dup', true, 10000],
      ['nohours', true, 0],
      ['ok', false, 16000],
      ['zero', false, 0],
      ['long1', false, 18000],
      ['long2', false, 12000],
    ]);
    expect(lineCodes(statement.lines)).toEqual([
      ['DUPLICATE_TICKET'], // 8 + 5 + 0 = 13 h on the 16th: not excessive
      ['MISSING_QUANTITY'],
      [],
      ['ZERO_AMOUNT'],
      ['EXCESSIVE_HOURS'],
      ['EXCESSIVE_HOURS'],
    ]);
    expect(statement).toMatchObject({
      grossCents: 46000,
      heldCents: 10000,
      deductionsCents: 0,
      netCents: 46000,
      flags: [],
    });
  });

  it('rounds once per line and sums the rounded lines', () => {
    const driver = { ...hourly, rate: '0.1' };
    const tickets = ['a', 'b', 'c'].map((id) => t(id, { hours: '0.125' }));
    const statement = driverStatement(
      driver,
      tickets.map((tk) => ticketLine(driver, tk)),
      [],
      period,
    );
    // Each line is 1.25 ¢ → 1 ¢; rounding the 3.75 ¢ sum would have given 4 ¢.
    expect(statement.lines.map((l) => l.amountCents)).toEqual([1, 1, 1]);
    expect(statement.grossCents).toBe(3);
  });

  it('pays a salaried driver the salary line; their tickets are zero lines, duplicates held', () => {
    const salaried: DriverInput = { id: 'd1', payType: 'salary', rate: '700', overtimeExempt: false };
    const lines = [t('a', { hours: '50' }), t('b', { duplicate: true, workDate: '2026-11-20' })].map((tk) =>
      ticketLine(salaried, tk),
    );
    const statement = driverStatement(salaried, lines, [], period);
    expect(statement.lines.map((l) => [l.kind, l.amountCents, l.held])).toEqual([
      ['ticket', 0, false],
      ['ticket', 0, true],
      ['salary', 140000, false],
    ]);
    expect(lineCodes(statement.lines)).toEqual([['EXCESSIVE_HOURS'], ['DUPLICATE_TICKET'], []]);
    expect(statement).toMatchObject({ grossCents: 140000, heldCents: 0, netCents: 140000 });
  });

  it('holds the salary line of a salaried driver without a rate', () => {
    const salaried: DriverInput = { id: 'd1', payType: 'salary', rate: null, overtimeExempt: false };
    const statement = driverStatement(salaried, [ticketLine(salaried, t('a'))], [], period);
    expect(lineCodes(statement.lines)).toEqual([[], ['MISSING_RATE']]);
    expect(statement).toMatchObject({ grossCents: 0, heldCents: 0 });
  });

  it('adds overtime to gross and leaves it out for exempt drivers', () => {
    const tickets = ['16', '17', '18', '19', '20'].map((d) => t(`t${d}`, { workDate: `2026-11-${d}`, hours: '9' }));
    const paid = driverStatement(
      hourly,
      tickets.map((tk) => ticketLine(hourly, tk)),
      [],
      period,
    );
    expect(paid.grossCents).toBe(45 * 2000 + 5 * 1000);
    const exempt = { ...hourly, overtimeExempt: true };
    const flat = driverStatement(
      exempt,
      tickets.map((tk) => ticketLine(exempt, tk)),
      [],
      period,
    );
    expect(flat.grossCents).toBe(45 * 2000);
    expect(flat.lines.every((l) => l.kind === 'ticket')).toBe(true);
  });

  it('applies deductions to gross and reports the shortfall on the statement', () => {
    const lines = [ticketLine(hourly, t('a', { hours: '10' }))]; // 20000
    const statement = driverStatement(
      hourly,
      lines,
      [deduction('rent', 15000), deduction('fuel', 8000, { priority: 2 })],
      period,
    );
    expect(statement).toMatchObject({ grossCents: 20000, deductionsCents: 20000, netCents: 0 });
    expect(statement.deductions.map((d) => d.shortfallCents)).toEqual([0, 3000]);
    expect(statement.flags).toEqual([{ code: 'NET_SHORTFALL', severity: 'warning' }]);
  });

  it('gives the same statement when fed its own lines', () => {
    const tickets = ['16', '17', '18', '19', '20'].map((d) => t(`t${d}`, { workDate: `2026-11-${d}`, hours: '15' }));
    const first = driverStatement(
      hourly,
      tickets.map((tk) => ticketLine(hourly, tk)),
      [deduction('a', 100)],
      period,
    );
    expect(driverStatement(hourly, first.lines, [deduction('a', 100)], period)).toEqual(first);
  });

  it('accepts lines as a database returns them (padded decimals, any flag order)', () => {
    const tickets = [t('a', { hours: '8.5', duplicate: true }), t('b', { hours: '7' })];
    const fresh = tickets.map((tk) => ticketLine(hourly, tk));
    const pad = (v: string | null | undefined, places: number) => (v == null ? null : new Decimal(v).toFixed(places));
    const stored = fresh.map((l) => ({
      ...l,
      quantity: pad(l.quantity, 3), // "8.500", as numeric(14,3)::text returns it
      rate: pad(l.rate, 4),
      ticketHours: pad(l.ticketHours, 3),
      flags: [...l.flags].reverse(),
    }));
    expect(stored[0]).toMatchObject({ quantity: '8.500', rate: '20.0000' });
    expect(driverStatement(hourly, stored, [], period)).toEqual(driverStatement(hourly, fresh, [], period));
  });

  it('refuses other drivers’ data and the same ticket twice', () => {
    const other: DriverInput = { ...hourly, id: 'd2' };
    const foreign = ticketLine(other, t('x', { driverId: 'd2', hours: '1' }));
    expect(() => driverStatement(hourly, [foreign], [], period)).toThrow(/line of driver d2/);
    const line = ticketLine(hourly, t('a', { hours: '1' }));
    expect(() => driverStatement(hourly, [line, { ...line }], [], period)).toThrow(/unique ticketId/);
    expect(() => driverStatement(hourly, [], [deduction('z', 1, { driverId: 'd2' })], period)).toThrow(/deduction z/);
  });
});
