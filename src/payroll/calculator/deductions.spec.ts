import { applyDeductions, compareDeductions } from './deductions';
import type { DeductionInput } from './types';

function fixed(id: string, amountCents: number, fields: Partial<DeductionInput> = {}): DeductionInput {
  return {
    id,
    driverId: 'd1',
    name: `fixed ${id}`,
    kind: 'fixed',
    amountCents,
    priority: 10,
    createdAt: '2026-01-01T00:00:00Z',
    maxTotalCents: null,
    appliedToDateCents: 0,
    carryInCents: 0,
    ...fields,
  };
}

function percent(id: string, pct: string, fields: Partial<DeductionInput> = {}): DeductionInput {
  return {
    ...fixed(id, 0, fields),
    kind: 'percent',
    amountCents: null,
    percent: pct,
    name: `percent ${id}`,
    ...fields,
  };
}

describe('applyDeductions', () => {
  it('leaves gross as net when there are no deductions', () => {
    expect(applyDeductions(12345, [])).toEqual({ applications: [], deductionsCents: 0, netCents: 12345, flags: [] });
  });

  it('takes fixed amounts and half-up percentages of gross', () => {
    const result = applyDeductions(10004, [fixed('a', 1000), percent('b', '12.5')]);
    expect(result.applications).toEqual([
      {
        deductionId: 'a',
        name: 'fixed a',
        wantedCents: 1000,
        cappedCents: 1000,
        appliedCents: 1000,
        shortfallCents: 0,
      },
      {
        deductionId: 'b',
        name: 'percent b',
        wantedCents: 1251,
        cappedCents: 1251,
        appliedCents: 1251,
        shortfallCents: 0,
      },
    ]);
    expect(result).toMatchObject({ deductionsCents: 2251, netCents: 7753, flags: [] });
    expect(applyDeductions(10001, [percent('b', '12.5')]).deductionsCents).toBe(1250); // 1250.125
  });

  it('bases every percentage on gross, not on what earlier deductions left', () => {
    const result = applyDeductions(10000, [fixed('a', 5000, { priority: 1 }), percent('b', '10', { priority: 2 })]);
    expect(result.applications[1].appliedCents).toBe(1000);
  });

  it('orders by priority, then created_at, then id', () => {
    const input = [
      fixed('late-low', 100, { priority: 2, createdAt: '2025-01-01T00:00:00Z' }),
      fixed('c', 100, { priority: 1, createdAt: '2026-03-01T00:00:00Z' }),
      fixed('z', 100, { priority: 1, createdAt: '2026-02-01T00:00:00Z' }),
      fixed('y', 100, { priority: 1, createdAt: '2026-02-01T00:00:00Z' }),
      // 08:00Z: earlier than 09:00Z although its text sorts later.
      fixed('offset', 100, { priority: 1, createdAt: '2026-02-01T10:00:00+02:00' }),
      fixed('nine', 100, { priority: 1, createdAt: '2026-02-01T09:00:00Z' }),
    ];
    const result = applyDeductions(350, input);
    expect(result.applications.map((a) => [a.deductionId, a.appliedCents, a.shortfallCents])).toEqual([
      ['y', 100, 0],
      ['z', 100, 0],
      ['offset', 100, 0],
      ['nine', 50, 50],
      ['c', 0, 100],
      ['late-low', 0, 100],
    ]);
    expect([...input].sort(compareDeductions).map((d) => d.id)).toEqual(['y', 'z', 'offset', 'nine', 'c', 'late-low']);
  });

  it('does not depend on the order deductions are given in', () => {
    const input = [
      fixed('a', 300, { priority: 2 }),
      fixed('b', 300, { priority: 1 }),
      percent('c', '50', { priority: 1 }),
    ];
    expect(applyDeductions(700, input)).toEqual(applyDeductions(700, [...input].reverse()));
  });

  it('limits by what is left of the cumulative cap; the excess is simply not taken', () => {
    const result = applyDeductions(100000, [fixed('loan', 10000, { maxTotalCents: 50000, appliedToDateCents: 45000 })]);
    expect(result.applications[0]).toMatchObject({
      wantedCents: 10000,
      cappedCents: 5000,
      appliedCents: 5000,
      shortfallCents: 0,
    });
    expect(result).toMatchObject({ deductionsCents: 5000, netCents: 95000, flags: [] });
  });

  it('takes nothing once the cap is used up, even if applied_to_date overshot it', () => {
    for (const appliedToDateCents of [50000, 60000]) {
      const result = applyDeductions(100000, [fixed('loan', 10000, { maxTotalCents: 50000, appliedToDateCents })]);
      expect(result.applications[0]).toMatchObject({ cappedCents: 0, appliedCents: 0, shortfallCents: 0 });
    }
  });

  it('records a shortfall when deductions exceed gross, flags NET_SHORTFALL and never goes below zero', () => {
    const result = applyDeductions(30000, [
      fixed('rent', 20000, { priority: 1 }),
      fixed('fuel', 15000, { priority: 2 }),
    ]);
    expect(result.applications.map((a) => [a.appliedCents, a.shortfallCents])).toEqual([
      [20000, 0],
      [10000, 5000],
    ]);
    expect(result).toMatchObject({ deductionsCents: 30000, netCents: 0 });
    expect(result.flags).toEqual([{ code: 'NET_SHORTFALL', severity: 'warning' }]);
  });

  it('takes a carried-in shortfall on top of the run’s own amount next time', () => {
    const result = applyDeductions(50000, [
      fixed('rent', 20000, { priority: 1 }),
      fixed('fuel', 15000, { priority: 2, carryInCents: 5000 }),
    ]);
    expect(result.applications[1]).toMatchObject({
      wantedCents: 20000,
      cappedCents: 20000,
      appliedCents: 20000,
      shortfallCents: 0,
    });
    expect(result).toMatchObject({ deductionsCents: 40000, netCents: 10000, flags: [] });
  });

  it('applies the cap to the carry-in too', () => {
    const d = fixed('loan', 3000, { carryInCents: 4000, maxTotalCents: 10000, appliedToDateCents: 5000 });
    expect(applyDeductions(100000, [d]).applications[0]).toMatchObject({
      wantedCents: 7000,
      cappedCents: 5000,
      appliedCents: 5000,
    });
  });

  it('carries the whole capped amount when gross is zero', () => {
    const result = applyDeductions(0, [fixed('a', 500, { maxTotalCents: 300 }), percent('b', '10')]);
    expect(result.applications.map((a) => [a.cappedCents, a.appliedCents, a.shortfallCents])).toEqual([
      [300, 0, 300],
      [0, 0, 0],
    ]);
    expect(result.netCents).toBe(0);
    expect(result.flags.map((f) => f.code)).toEqual(['NET_SHORTFALL']);
  });

  it('rejects incomplete or negative deduction data', () => {
    expect(() => applyDeductions(100, [fixed('a', 0, { amountCents: null })])).toThrow(/no amountCents/);
    expect(() => applyDeductions(100, [percent('b', '1', { percent: null })])).toThrow(/no percent/);
    expect(() => applyDeductions(100, [fixed('a', -1)])).toThrow(RangeError);
    expect(() => applyDeductions(100, [fixed('a', 1, { carryInCents: -1 })])).toThrow(RangeError);
    expect(() => applyDeductions(-1, [])).toThrow(RangeError);
    expect(() => applyDeductions(100, [percent('b', '-5')])).toThrow(RangeError);
  });
});
