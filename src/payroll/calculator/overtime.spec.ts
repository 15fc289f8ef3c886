import { overtimeLines } from './overtime';
import { ticketLine } from './pay-rules';
import type { DriverInput, PayLine, Period } from './types';

const hourly: DriverInput = { id: 'd1', payType: 'hourly', rate: '20', overtimeExempt: false };
const twoWeeks: Period = { start: '2026-11-16', end: '2026-11-29' }; // 2026-W47 and 2026-W48

let seq = 0;
function worked(workDate: string, hours: string, driver: DriverInput = hourly, duplicate = false): PayLine {
  seq += 1;
  return ticketLine(driver, {
    id: `t${seq}`,
    ticketNumber: `N${seq}`,
    driverId: driver.id,
    workDate,
    hours,
    duplicate,
  });
}

const summary = (lines: PayLine[]) => lines.map((l) => [l.isoWeek, l.quantity, l.rate, l.amountCents]);

describe('overtimeLines', () => {
  it('pays 0.5 × rate on hours above 40, one line per ISO week', () => {
    const lines = [
      ...['16', '17', '18', '19', '20'].map((d) => worked(`2026-11-${d}`, '9')), // W47: 45 h
      ...['23', '24', '25', '26'].map((d) => worked(`2026-11-${d}`, '10.5')), // W48: 42 h
    ];
    const overtime = overtimeLines(hourly, lines, twoWeeks);
    expect(overtime).toEqual([
      {
        driverId: 'd1',
        ticketId: null,
        ticketNumber: null,
        workDate: null,
        kind: 'overtime',
        quantity: '5',
        unit: 'hours',
        rate: '10',
        amountCents: 5000,
        held: false,
        flags: [],
        isoWeek: '2026-W47',
      },
      expect.objectContaining({ isoWeek: '2026-W48', quantity: '2', rate: '10', amountCents: 2000 }),
    ]);
  });

  it('puts Sunday in the week that started the Monday before', () => {
    const lines = [
      ...['16', '17', '18', '19', '20', '21'].map((d) => worked(`2026-11-${d}`, '6.5')), // Mon–Sat 39 h
      worked('2026-11-22', '3'), // Sunday → W47 = 42 h
      worked('2026-11-23', '3'), // Monday → W48
      ...['24', '25', '26', '27'].map((d) => worked(`2026-11-${d}`, '10')), // W48 = 43 h
    ];
    // Sunday-start weeks would give 39 h and 46 h instead.
    expect(summary(overtimeLines(hourly, lines, twoWeeks))).toEqual([
      ['2026-W47', '2', '10', 2000],
      ['2026-W48', '3', '10', 3000],
    ]);
  });

  it('counts only the part of a week inside the pay period', () => {
    const period: Period = { start: '2026-11-18', end: '2026-12-02' }; // Wed … Wed
    const lines = [
      worked('2026-11-17', '10'), // Tuesday before the period: belongs to the previous run
      ...['18', '19', '20', '21', '22'].map((d) => worked(`2026-11-${d}`, '9')), // W47 in period: 45 h
      worked('2026-11-30', '14'),
      worked('2026-12-01', '14'),
      worked('2026-12-02', '14'), // W49 in period: 42 h
      worked('2026-12-03', '10'), // Thursday after the period
    ];
    expect(summary(overtimeLines(hourly, lines, period))).toEqual([
      ['2026-W47', '5', '10', 5000],
      ['2026-W49', '2', '10', 2000],
    ]);
    // Without a period every given line counts.
    expect(summary(overtimeLines(hourly, lines))).toEqual([
      ['2026-W47', '15', '10', 15000],
      ['2026-W49', '12', '10', 12000],
    ]);
  });

  it('gives nothing at exactly 40 hours', () => {
    const lines = ['16', '17', '18', '19'].map((d) => worked(`2026-11-${d}`, '10'));
    expect(overtimeLines(hourly, lines, twoWeeks)).toEqual([]);
  });

  it('ignores held tickets (duplicates, missing hours)', () => {
    const lines = [
      ...['16', '17', '18', '19'].map((d) => worked(`2026-11-${d}`, '10')),
      worked('2026-11-20', '8', hourly, true), // duplicate: held
      ticketLine(hourly, {
        id: 'nohours',
        ticketNumber: 'X',
        driverId: 'd1',
        workDate: '2026-11-20',
        duplicate: false,
      }),
    ];
    expect(overtimeLines(hourly, lines, twoWeeks)).toEqual([]);
  });

  it('gives exempt and non-hourly drivers none', () => {
    const exempt = { ...hourly, overtimeExempt: true };
    const lines = ['16', '17', '18', '19', '20'].map((d) => worked(`2026-11-${d}`, '12', exempt));
    expect(overtimeLines(exempt, lines, twoWeeks)).toEqual([]);
    const perTon: DriverInput = { id: 'd1', payType: 'per_ton', rate: '5', overtimeExempt: false };
    const tonLines = ['16', '17', '18', '19', '20'].map((d, i) =>
      ticketLine(perTon, {
        id: `p${i}`,
        ticketNumber: `P${i}`,
        driverId: 'd1',
        workDate: `2026-11-${d}`,
        hours: '12',
        tons: '1',
        duplicate: false,
      }),
    );
    expect(overtimeLines(perTon, tonLines, twoWeeks)).toEqual([]);
  });

  it('ignores other drivers’ lines', () => {
    const other: DriverInput = { ...hourly, id: 'd2' };
    const lines = ['16', '17', '18', '19', '20'].map((d) => worked(`2026-11-${d}`, '12', other));
    expect(overtimeLines(hourly, lines, twoWeeks)).toEqual([]);
  });

  it('keeps the premium rate exact and rounds the week once', () => {
    const driver = { ...hourly, rate: '17.3333' };
    const lines = [
      ...['16', '17', '18', '19'].map((d) => worked(`2026-11-${d}`, '10', driver)),
      worked('2026-11-20', '1.333', driver),
    ];
    // 1.333 h × 8.66665 = 11.5526…
    expect(summary(overtimeLines(driver, lines, twoWeeks))).toEqual([['2026-W47', '1.333', '8.66665', 1155]]);
  });

  it('rounds exactly half a cent up', () => {
    const driver = { ...hourly, rate: '0.01' };
    const lines = [
      ...['16', '17', '18', '19'].map((d) => worked(`2026-11-${d}`, '10', driver)),
      worked('2026-11-20', '1', driver),
    ];
    expect(summary(overtimeLines(driver, lines, twoWeeks))).toEqual([['2026-W47', '1', '0.005', 1]]);
  });

  it('holds the premium with MISSING_RATE if paid lines exist but the driver has lost the rate', () => {
    const lines = ['16', '17', '18', '19', '20'].map((d) => worked(`2026-11-${d}`, '9'));
    const [line] = overtimeLines({ ...hourly, rate: null }, lines, twoWeeks);
    expect(line).toMatchObject({ held: true, amountCents: 0, rate: null, quantity: '5' });
    expect(line.flags).toEqual([{ code: 'MISSING_RATE', severity: 'blocking' }]);
  });
});
