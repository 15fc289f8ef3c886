import { FLAG_SEVERITY, countFlags, finalizeLine, flag, hasBlocking, mergeFlags } from './flags';
import type { PayLine } from './types';

const line: Omit<PayLine, 'held' | 'flags'> = {
  driverId: 'd1',
  ticketId: 't1',
  ticketNumber: 'N1',
  workDate: '2026-11-16',
  kind: 'ticket',
  quantity: '1',
  unit: 'hours',
  rate: '10',
  amountCents: 1000,
};

describe('flags', () => {
  it('classifies the four data problems as blocking and the rest as warnings', () => {
    const blocking = Object.entries(FLAG_SEVERITY).filter(([, s]) => s === 'blocking');
    expect(blocking.map(([code]) => code)).toEqual([
      'MISSING_QUANTITY',
      'MISSING_REVENUE',
      'MISSING_RATE',
      'DUPLICATE_TICKET',
    ]);
    expect(flag('EXCESSIVE_HOURS')).toEqual({ code: 'EXCESSIVE_HOURS', severity: 'warning' });
  });

  it('merges flags without duplicates, in canonical order', () => {
    const merged = mergeFlags([flag('QUANTITY_OUTLIER'), flag('MISSING_RATE')], ['DUPLICATE_TICKET', 'MISSING_RATE']);
    expect(merged.map((f) => f.code)).toEqual(['MISSING_RATE', 'DUPLICATE_TICKET', 'QUANTITY_OUTLIER']);
    expect(hasBlocking(merged)).toBe(true);
    expect(hasBlocking([flag('ZERO_AMOUNT')])).toBe(false);
  });

  it('holds a line exactly when it has a blocking flag', () => {
    expect(finalizeLine(line, [])).toMatchObject({ held: false, flags: [] });
    expect(finalizeLine(line, ['DUPLICATE_TICKET'])).toMatchObject({ held: true, amountCents: 1000 });
  });

  it('adds ZERO_AMOUNT only to paid zero lines that are not exempt', () => {
    const zero = { ...line, amountCents: 0 };
    expect(finalizeLine(zero, []).flags).toEqual([{ code: 'ZERO_AMOUNT', severity: 'warning' }]);
    expect(finalizeLine(zero, [], { zeroAmountExempt: true }).flags).toEqual([]);
    expect(finalizeLine(zero, ['MISSING_RATE']).flags.map((f) => f.code)).toEqual(['MISSING_RATE']);
  });

  it('counts flags by severity', () => {
    const counts = { blocking: 1, warning: 0 };
    countFlags([flag('MISSING_RATE'), flag('NET_SHORTFALL'), flag('ZERO_AMOUNT')], counts);
    expect(counts).toEqual({ blocking: 2, warning: 2 });
  });
});
