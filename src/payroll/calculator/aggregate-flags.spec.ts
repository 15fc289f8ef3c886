import { aggregateFlags } from './aggregate-flags';
import { ticketLine } from './pay-rules';
import type { DriverInput, FlagCode, PayLine, TicketInput } from './types';

const hourly: DriverInput = { id: 'd1', payType: 'hourly', rate: '20', overtimeExempt: false };
const perTon: DriverInput = { id: 'd2', payType: 'per_ton', rate: '5', overtimeExempt: false };

let seq = 0;
function t(driver: DriverInput, fields: Partial<TicketInput>): TicketInput {
  seq += 1;
  return {
    id: `t${seq}`,
    ticketNumber: `N${seq}`,
    driverId: driver.id,
    workDate: '2026-11-16',
    duplicate: false,
    ...fields,
  };
}

const codes = (line: PayLine): FlagCode[] => line.flags.map((f) => f.code);
const line = (driver: DriverInput, fields: Partial<TicketInput>) => ticketLine(driver, t(driver, fields));

describe('aggregateFlags: EXCESSIVE_HOURS', () => {
  it('flags every line of a day whose summed hours exceed 14, and leaves them paid', () => {
    const lines = [
      line(hourly, { hours: '8' }),
      line(hourly, { hours: '6.001' }),
      line(hourly, { hours: '12', workDate: '2026-11-17' }),
    ];
    const result = aggregateFlags(lines);
    expect(result.map(codes)).toEqual([['EXCESSIVE_HOURS'], ['EXCESSIVE_HOURS'], []]);
    expect(result.map((l) => l.held)).toEqual([false, false, false]);
    expect(result[0].flags[0]).toEqual({ code: 'EXCESSIVE_HOURS', severity: 'warning' });
  });

  it('does not flag exactly 14 hours', () => {
    const result = aggregateFlags([line(hourly, { hours: '7' }), line(hourly, { hours: '7.000' })]);
    expect(result.map(codes)).toEqual([[], []]);
  });

  it('counts ticket hours for drivers not paid by the hour, including lines without hours that day', () => {
    const lines = [
      line(perTon, { tons: '3', hours: '9' }),
      line(perTon, { tons: '4', hours: '6' }),
      line(perTon, { tons: '1' }),
    ];
    expect(aggregateFlags(lines).map(codes)).toEqual([['EXCESSIVE_HOURS'], ['EXCESSIVE_HOURS'], ['EXCESSIVE_HOURS']]);
  });

  it('sums per driver, never across drivers', () => {
    const other = { ...hourly, id: 'd9' };
    const result = aggregateFlags([line(hourly, { hours: '8' }), line(other, { hours: '8' })]);
    expect(result.map(codes)).toEqual([[], []]);
  });

  it('counts held tickets too: they are hours recorded for the driver', () => {
    const result = aggregateFlags([line(hourly, { hours: '8' }), line(hourly, { hours: '8', duplicate: true })]);
    expect(result.map(codes)).toEqual([['EXCESSIVE_HOURS'], ['DUPLICATE_TICKET', 'EXCESSIVE_HOURS']]);
    expect(result.map((l) => l.held)).toEqual([false, true]);
  });

  it('reads hours from ticketsById for lines stored without ticketHours', () => {
    const tickets = [t(perTon, { tons: '3', hours: '10' }), t(perTon, { tons: '3', hours: '10' })];
    const stored = tickets.map((tk) => {
      const { ticketHours: _dropped, ...rest } = ticketLine(perTon, tk);
      return rest;
    });
    expect(aggregateFlags(stored).map(codes)).toEqual([[], []]);
    const byId = new Map(tickets.map((tk) => [tk.id, tk]));
    expect(aggregateFlags(stored, byId).map(codes)).toEqual([['EXCESSIVE_HOURS'], ['EXCESSIVE_HOURS']]);
  });
});

describe('aggregateFlags: QUANTITY_OUTLIER', () => {
  it('flags a quantity above 3 × the driver’s median for the unit once there are 5 tickets', () => {
    // median 3 → limit 9
    const crossing = aggregateFlags(['2', '3', '3', '4', '9.001'].map((q) => line(perTon, { tons: q })));
    expect(crossing.map(codes)).toEqual([[], [], [], [], ['QUANTITY_OUTLIER']]);
    expect(crossing[4].held).toBe(false);
  });

  it('does not flag exactly 3 × the median', () => {
    const result = aggregateFlags(['2', '3', '3', '4', '9'].map((q) => line(perTon, { tons: q })));
    expect(result.map(codes).flat()).toEqual([]);
  });

  it('needs at least 5 tickets with the unit', () => {
    const result = aggregateFlags(['1', '1', '1', '100'].map((q) => line(perTon, { tons: q })));
    expect(result.map(codes).flat()).toEqual([]);
  });

  it('uses the mean of the middle two for an even count', () => {
    const result = aggregateFlags(['1', '1', '2', '4', '5', '9.1'].map((q) => line(perTon, { tons: q })));
    // median (2 + 4) / 2 = 3 → limit 9
    expect(result.map(codes)).toEqual([[], [], [], [], [], ['QUANTITY_OUTLIER']]);
  });

  it('works on hours for hourly drivers and ignores revenue', () => {
    const hours = aggregateFlags(
      ['1', '1', '1', '1', '3.5'].map((h, i) => line(hourly, { hours: h, workDate: `2026-11-1${i}` })),
    );
    expect(hours.map(codes)[4]).toEqual(['QUANTITY_OUTLIER']);
    const pct: DriverInput = { id: 'd3', payType: 'percentage', rate: '30', overtimeExempt: false };
    const revenue = aggregateFlags([100, 100, 100, 100, 100000].map((r) => line(pct, { revenueCents: r })));
    expect(revenue.map(codes).flat()).toEqual([]);
  });
});

describe('aggregateFlags: idempotence', () => {
  it('recomputes instead of accumulating: stale aggregate flags are dropped', () => {
    const lines = [line(hourly, { hours: '8' }), line(hourly, { hours: '8' })];
    const once = aggregateFlags(lines);
    expect(aggregateFlags(once)).toEqual(once);
    expect(aggregateFlags(once.slice(0, 1)).map(codes)).toEqual([[]]);
  });

  it('does not mutate its input', () => {
    const lines = [line(hourly, { hours: '8' }), line(hourly, { hours: '8' })];
    const copy = structuredClone(lines);
    aggregateFlags(lines);
    expect(lines).toEqual(copy);
  });
});
