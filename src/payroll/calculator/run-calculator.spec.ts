import { calculateRun } from './run-calculator';
import type { DeductionInput, DriverInput, Period, TicketInput } from './types';

const period: Period = { start: '2026-11-16', end: '2026-11-29' };

const drivers: DriverInput[] = [
  { id: 'hourly', payType: 'hourly', rate: '25.5', overtimeExempt: false },
  { id: 'salary', payType: 'salary', rate: '1050', overtimeExempt: true },
  { id: 'pct', payType: 'percentage', rate: '30', overtimeExempt: false },
  { id: 'tons', payType: 'per_ton', rate: '6.25', overtimeExempt: false },
];

let seq = 0;
function t(driverId: string, workDate: string, fields: Partial<TicketInput>): TicketInput {
  seq += 1;
  return { id: `t${seq}`, ticketNumber: `N${seq}`, driverId, workDate, duplicate: false, ...fields };
}

function deduction(
  id: string,
  driverId: string,
  amountCents: number,
  fields: Partial<DeductionInput> = {},
): DeductionInput {
  return {
    id,
    driverId,
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

describe('calculateRun', () => {
  const tickets: TicketInput[] = [
    ...['16', '17', '18', '19', '20'].map((d) => t('hourly', `2026-11-${d}`, { hours: '9' })), // 45 h in W47
    t('hourly', '2026-11-23', { hours: '8', duplicate: true }),
    t('salary', '2026-11-16', { hours: '10' }),
    t('pct', '2026-11-17', { revenueCents: 100001 }),
    t('pct', '2026-11-18', {}),
    t('tons', '2026-11-18', { tons: '20.5' }),
  ];
  const deductions = [deduction('loan', 'pct', 50000), deduction('uniform', 'tons', 2500)];

  it('computes one statement per driver, ordered by driver id', () => {
    const run = calculateRun(period, [...drivers].reverse(), tickets, deductions);
    expect(run.statements.map((s) => [s.driverId, s.grossCents, s.heldCents, s.deductionsCents, s.netCents])).toEqual([
      ['hourly', 45 * 2550 + 5 * 1275, 20400, 0, 121125],
      ['pct', 30000, 0, 30000, 0], // 30 % of 100001 ¢ = 30000.3 ¢; the ticket without revenue is held at 0
      ['salary', 210000, 0, 0, 210000],
      ['tons', 12813, 0, 2500, 10313], // 20.5 × 6.25 = 128.125
    ]);
  });

  it('totals the statements and counts every flag instance', () => {
    const run = calculateRun(period, drivers, tickets, deductions);
    expect(run.totals).toEqual({
      grossCents: 121125 + 30000 + 210000 + 12813,
      deductionsCents: 32500,
      netCents: 121125 + 0 + 210000 + 10313,
      heldCents: 20400,
    });
    // blocking: DUPLICATE_TICKET, MISSING_REVENUE; warning: NET_SHORTFALL (pct)
    expect(run.flags).toEqual({ blocking: 2, warning: 1 });
  });

  it('reports no flags for a clean run', () => {
    const clean = calculateRun(period, drivers.slice(0, 1), [t('hourly', '2026-11-16', { hours: '8' })], []);
    expect(clean.flags).toEqual({ blocking: 0, warning: 0 });
  });

  it('gives drivers without tickets a statement: salary is paid, deductions fall short', () => {
    const run = calculateRun(period, drivers, [], [deduction('d', 'hourly', 1000)]);
    expect(run.statements.map((s) => [s.driverId, s.grossCents, s.netCents, s.flags.map((f) => f.code)])).toEqual([
      ['hourly', 0, 0, ['NET_SHORTFALL']],
      ['pct', 0, 0, []],
      ['salary', 210000, 210000, []],
      ['tons', 0, 0, []],
    ]);
  });

  it('collects a shortfall in the next run through carry_in', () => {
    const driver = drivers[0];
    const loan = deduction('loan', 'hourly', 30000, { maxTotalCents: 100000 });
    const first = calculateRun(period, [driver], [t('hourly', '2026-11-16', { hours: '10' })], [loan]); // 25500
    const applied = first.statements[0].deductions[0];
    expect(applied).toMatchObject({ appliedCents: 25500, shortfallCents: 4500 });

    const next: Period = { start: '2026-11-30', end: '2026-12-13' };
    const carried = { ...loan, appliedToDateCents: applied.appliedCents, carryInCents: applied.shortfallCents };
    const second = calculateRun(next, [driver], [t('hourly', '2026-12-01', { hours: '40' })], [carried]);
    expect(second.statements[0].deductions[0]).toMatchObject({
      wantedCents: 34500,
      cappedCents: 34500,
      appliedCents: 34500,
      shortfallCents: 0,
    });
    expect(second.statements[0].netCents).toBe(102000 - 34500);
  });

  it('counts only the in-period part of a week split by the period boundary', () => {
    const split: Period = { start: '2026-11-19', end: '2026-11-25' }; // Thu … Wed
    const run = calculateRun(
      split,
      drivers.slice(0, 1),
      [
        ...['19', '20', '21', '22'].map((d) => t('hourly', `2026-11-${d}`, { hours: '11' })), // W47: 44 h
        ...['23', '24', '25'].map((d) => t('hourly', `2026-11-${d}`, { hours: '14' })), // W48: 42 h
      ],
      [],
    );
    const overtime = run.statements[0].lines.filter((l) => l.kind === 'overtime');
    expect(overtime.map((l) => [l.isoWeek, l.quantity, l.amountCents])).toEqual([
      ['2026-W47', '4', 5100],
      ['2026-W48', '2', 2550],
    ]);
  });

  it('rejects inconsistent input instead of paying around it', () => {
    expect(() => calculateRun(period, drivers, [t('ghost', '2026-11-16', { hours: '1' })], [])).toThrow(/ghost/);
    const dup = t('hourly', '2026-11-16', { hours: '1' });
    expect(() => calculateRun(period, drivers, [dup, dup], [])).toThrow(/appears twice/);
    expect(() => calculateRun(period, [...drivers, drivers[0]], [], [])).toThrow(/appears twice/);
    expect(() => calculateRun(period, drivers, [], [deduction('x', 'ghost', 1)])).toThrow(/ghost/);
    expect(() => calculateRun({ start: '2026-11-29', end: '2026-11-16' }, drivers, [], [])).toThrow(RangeError);
  });
});
