import { salaryLine, ticketLine } from './pay-rules';
import type { DriverInput, FlagCode, PayLine, PayType, TicketInput } from './types';

function driver(payType: PayType, rate: string | null = '20', overtimeExempt = false): DriverInput {
  return { id: 'd1', payType, rate, overtimeExempt };
}

function ticket(fields: Partial<TicketInput> = {}): TicketInput {
  return { id: 't1', ticketNumber: 'N-1', driverId: 'd1', workDate: '2026-11-16', duplicate: false, ...fields };
}

const codes = (line: PayLine): FlagCode[] => line.flags.map((f) => f.code);

describe('ticketLine per pay type', () => {
  it('hourly: hours × rate', () => {
    expect(ticketLine(driver('hourly', '22.75'), ticket({ hours: '8.5' }))).toEqual({
      driverId: 'd1',
      ticketId: 't1',
      ticketNumber: 'N-1',
      workDate: '2026-11-16',
      kind: 'ticket',
      quantity: '8.5',
      unit: 'hours',
      rate: '22.75',
      amountCents: 19338, // 193.375 rounds half-up
      held: false,
      flags: [],
      ticketHours: '8.5',
    });
  });

  it('per_ton, per_yard, per_load: the matching quantity × rate', () => {
    const tons = ticketLine(driver('per_ton', '4.1'), ticket({ tons: '12.5', yards: '99', hours: '3' }));
    expect(tons).toMatchObject({ quantity: '12.5', unit: 'tons', rate: '4.1', amountCents: 5125, ticketHours: '3' });
    const yards = ticketLine(driver('per_yard', '10.02'), ticket({ yards: '7.25', tons: '1' }));
    expect(yards).toMatchObject({ quantity: '7.25', unit: 'yards', amountCents: 7265, ticketHours: null });
    const loads = ticketLine(driver('per_load', '85.5'), ticket({ loads: '3' }));
    expect(loads).toMatchObject({ quantity: '3', unit: 'loads', amountCents: 25650, held: false });
    const precise = ticketLine(driver('per_ton', '3.3333'), ticket({ tons: '12.345' }));
    expect(precise.amountCents).toBe(4115); // 41.1495885
  });

  it('percentage: revenue_cents × rate / 100, where 30 means 30 %', () => {
    const line = ticketLine(driver('percentage', '30'), ticket({ revenueCents: 123456 }));
    expect(line).toMatchObject({ quantity: '123456', unit: 'revenue_cents', rate: '30', amountCents: 37037 });
    expect(line.held).toBe(false);
  });

  it('salary: tickets are zero-amount lines without ZERO_AMOUNT', () => {
    const line = ticketLine(driver('salary', '700'), ticket({ hours: '9', tons: '4' }));
    expect(line).toMatchObject({ kind: 'ticket', quantity: null, unit: null, rate: null, amountCents: 0 });
    expect(line.held).toBe(false);
    expect(line.flags).toEqual([]);
    expect(line.ticketHours).toBe('9');
  });
});

describe('ticketLine rounding', () => {
  it('rounds exactly half a cent up', () => {
    expect(ticketLine(driver('hourly', '10'), ticket({ hours: '1.005' })).amountCents).toBe(1005);
    expect(ticketLine(driver('hourly', '1'), ticket({ hours: '1.005' })).amountCents).toBe(101);
    expect(ticketLine(driver('hourly', '0.2'), ticket({ hours: '0.125' })).amountCents).toBe(3); // 2.5 ¢
    expect(ticketLine(driver('per_load', '0.1'), ticket({ loads: '0.125' })).amountCents).toBe(1); // 1.25 ¢
    expect(ticketLine(driver('per_ton', '0.0001'), ticket({ tons: '50' })).amountCents).toBe(1); // 0.5 ¢
  });

  it('rounds percentage pay of tiny revenue half-up', () => {
    expect(ticketLine(driver('percentage', '30.5'), ticket({ revenueCents: 3 })).amountCents).toBe(1); // 0.915 ¢
    expect(ticketLine(driver('percentage', '30'), ticket({ revenueCents: 5 })).amountCents).toBe(2); // 1.5 ¢
    expect(ticketLine(driver('percentage', '25'), ticket({ revenueCents: 2 })).amountCents).toBe(1); // 0.5 ¢
    expect(ticketLine(driver('percentage', '12.4999'), ticket({ revenueCents: 4 })).amountCents).toBe(0); // 0.49996 ¢
  });
});

describe('ticketLine blocking flags', () => {
  it('MISSING_QUANTITY when the pay unit is absent (other units do not stand in)', () => {
    const hourly = ticketLine(driver('hourly'), ticket({ tons: '5' }));
    expect(codes(hourly)).toEqual(['MISSING_QUANTITY']);
    expect(hourly).toMatchObject({ held: true, amountCents: 0, quantity: null, unit: 'hours' });
    expect(codes(ticketLine(driver('per_ton'), ticket({ hours: '8', yards: '3' })))).toEqual(['MISSING_QUANTITY']);
    expect(codes(ticketLine(driver('per_yard'), ticket({ yards: null })))).toEqual(['MISSING_QUANTITY']);
    expect(codes(ticketLine(driver('per_load'), ticket({ loads: '' })))).toEqual(['MISSING_QUANTITY']);
  });

  it('MISSING_REVENUE (not MISSING_QUANTITY) for percentage pay without revenue', () => {
    const line = ticketLine(driver('percentage', '30'), ticket({ hours: '8', revenueCents: null }));
    expect(codes(line)).toEqual(['MISSING_REVENUE']);
    expect(line).toMatchObject({ held: true, amountCents: 0, quantity: null });
  });

  it('MISSING_RATE for an absent or zero rate, on every pay type except salary tickets', () => {
    for (const payType of ['hourly', 'per_ton', 'per_yard', 'per_load', 'percentage'] as const) {
      for (const rate of [null, '0', '0.0000']) {
        const line = ticketLine(
          driver(payType, rate),
          ticket({ hours: '1', tons: '1', yards: '1', loads: '1', revenueCents: 100 }),
        );
        expect(codes(line)).toEqual(['MISSING_RATE']);
        expect(line).toMatchObject({ held: true, amountCents: 0 });
      }
    }
    expect(ticketLine(driver('salary', null), ticket()).flags).toEqual([]);
  });

  it('DUPLICATE_TICKET holds the line but still shows what it would pay', () => {
    const line = ticketLine(driver('hourly', '20'), ticket({ hours: '8', duplicate: true }));
    expect(line.flags).toEqual([{ code: 'DUPLICATE_TICKET', severity: 'blocking' }]);
    expect(line).toMatchObject({ held: true, amountCents: 16000 });
  });

  it('DUPLICATE_TICKET applies to salary drivers’ tickets too', () => {
    const line = ticketLine(driver('salary', '700'), ticket({ duplicate: true }));
    expect(codes(line)).toEqual(['DUPLICATE_TICKET']);
    expect(line.held).toBe(true);
  });

  it('reports every blocking problem at once, in a fixed order', () => {
    const line = ticketLine(driver('hourly', null), ticket({ duplicate: true }));
    expect(codes(line)).toEqual(['MISSING_QUANTITY', 'MISSING_RATE', 'DUPLICATE_TICKET']);
  });
});

describe('ticketLine warnings', () => {
  it('ZERO_AMOUNT on a paid line that computes to zero', () => {
    const line = ticketLine(driver('hourly', '20'), ticket({ hours: '0' }));
    expect(line.flags).toEqual([{ code: 'ZERO_AMOUNT', severity: 'warning' }]);
    expect(line.held).toBe(false);
    expect(codes(ticketLine(driver('percentage', '10'), ticket({ revenueCents: 4 })))).toEqual(['ZERO_AMOUNT']);
    expect(codes(ticketLine(driver('percentage', '10'), ticket({ revenueCents: 0 })))).toEqual(['ZERO_AMOUNT']);
  });

  it('no ZERO_AMOUNT on held lines (the blocking flag already says why)', () => {
    expect(codes(ticketLine(driver('hourly', '20'), ticket({ hours: '0', duplicate: true })))).toEqual([
      'DUPLICATE_TICKET',
    ]);
  });
});

describe('ticketLine input checks', () => {
  it('rejects a ticket of another driver', () => {
    expect(() => ticketLine(driver('hourly'), ticket({ driverId: 'd2', hours: '1' }))).toThrow(/belongs to driver d2/);
  });

  it('rejects malformed numbers and dates instead of paying a guess', () => {
    expect(() => ticketLine(driver('hourly'), ticket({ hours: '8.1234' }))).toThrow(RangeError);
    expect(() => ticketLine(driver('hourly', '1.23456'), ticket({ hours: '8' }))).toThrow(RangeError);
    expect(() => ticketLine(driver('per_ton'), ticket({ tons: '-2' }))).toThrow(RangeError);
    expect(() => ticketLine(driver('percentage'), ticket({ revenueCents: -5 }))).toThrow(RangeError);
    expect(() => ticketLine(driver('hourly'), ticket({ hours: '1', workDate: '16/11/2026' }))).toThrow(RangeError);
  });
});

describe('salaryLine', () => {
  const period14 = { start: '2026-11-16', end: '2026-11-29' };

  it('pays rate per 7 days prorated by calendar days: 14 days = 2 × rate', () => {
    expect(salaryLine(driver('salary', '700'), period14)).toEqual({
      driverId: 'd1',
      ticketId: null,
      ticketNumber: null,
      workDate: null,
      kind: 'salary',
      quantity: '14',
      unit: 'days',
      rate: '700',
      amountCents: 140000,
      held: false,
      flags: [],
    });
  });

  it('prorates odd periods and rounds once, half-up', () => {
    const month = { start: '2026-01-01', end: '2026-01-31' };
    expect(salaryLine(driver('salary', '700'), month)?.amountCents).toBe(310000);
    expect(salaryLine(driver('salary', '1000'), month)?.amountCents).toBe(442857); // 4428.5714…
    expect(salaryLine(driver('salary', '100'), { start: '2026-01-01', end: '2026-01-01' })?.amountCents).toBe(1429);
    // 0.0035 × 10 / 7 = 0.005 dollars: exactly half a cent.
    expect(salaryLine(driver('salary', '0.0035'), { start: '2026-01-01', end: '2026-01-10' })?.amountCents).toBe(1);
  });

  it('is held with MISSING_RATE when the rate is absent or zero', () => {
    for (const rate of [null, '0']) {
      const line = salaryLine(driver('salary', rate), period14);
      expect(line?.flags).toEqual([{ code: 'MISSING_RATE', severity: 'blocking' }]);
      expect(line).toMatchObject({ held: true, amountCents: 0 });
    }
  });

  it('is null for every other pay type', () => {
    for (const payType of ['hourly', 'percentage', 'per_ton', 'per_yard', 'per_load'] as const) {
      expect(salaryLine(driver(payType), period14)).toBeNull();
    }
  });
});
