import { effectiveRules, levelOf, parseRuleOverrides, severityOf } from './rules';

describe('incident rules', () => {
  it('overrides any numeric setting of any signal, and nothing else', () => {
    const rules = effectiveRules(
      parseRuleOverrides({ disk_used_percent: { critical: 1, for_seconds: 0 }, workers_alive: { warning: null } }),
    );
    const disk = rules.find((r) => r.signal === 'disk_used_percent')!;
    expect(disk).toMatchObject({ critical: 1, for_seconds: 0, warning: 85, category: 'capacity' });
    expect(rules).toHaveLength(15);
  });

  it.each([
    [{ no_such_signal: {} }, /unknown signal "no_such_signal"/],
    [{ disk_used_percent: 5 }, /disk_used_percent: must be an object/],
    [{ disk_used_percent: { severity: 'SEV1' } }, /disk_used_percent.severity: not a setting/],
    [{ disk_used_percent: { for_seconds: -1 } }, /for_seconds: must be a number ≥ 0/],
    [{ disk_used_percent: { critical: '90' } }, /critical: must be a number or null/],
  ])('refuses %j naming what is wrong', (raw, message) => {
    expect(() => parseRuleOverrides(raw as Record<string, unknown>)).toThrow(message);
  });

  it('levels follow the side that is worse (workers_alive is critical at 0, not above)', () => {
    const [disk, workers] = ['disk_used_percent', 'workers_alive'].map((s) =>
      effectiveRules({}).find((r) => r.signal === s)!,
    );
    expect([levelOf(disk, 50), levelOf(disk, 85), levelOf(disk, 99)]).toEqual(['ok', 'warning', 'critical']);
    expect([levelOf(workers, 2), levelOf(workers, 0)]).toEqual(['ok', 'critical']);
    expect(levelOf(disk, null)).toBe('ok');
  });

  it('severity rises one step when ten or more orgs are affected', () => {
    const rule = { severity: { warning: 'SEV3', critical: 'SEV2' } } as const;
    expect(severityOf(rule, 'critical', 9)).toBe('SEV2');
    expect(severityOf(rule, 'critical', 10)).toBe('SEV1');
    expect(severityOf({ severity: { warning: 'SEV1', critical: 'SEV1' } }, 'critical', 500)).toBe('SEV1');
  });
});
