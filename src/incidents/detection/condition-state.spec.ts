import { evaluateCondition, INITIAL_STATE, percentStateChange } from './condition-state';
import type { ConditionState, Decision } from './condition-state';
import type { Level } from '../signals/rules';

const rule = { for_seconds: 60, keep_firing_for_seconds: 120 };
const t0 = Date.parse('2026-12-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);

/** Runs a sequence of (second, level) observations; returns every decision with its time. */
function run(seq: [number, Level][], r = rule, start: ConditionState = INITIAL_STATE) {
  let state = start;
  const out: (Decision & { t: number })[] = [];
  for (const [s, level] of seq) {
    const step = evaluateCondition(state, level, at(s), r);
    state = step.state;
    out.push(...step.decisions.map((d) => ({ ...d, t: s })));
  }
  return { state, decisions: out };
}

describe('evaluateCondition', () => {
  it('opens once the breach has held for for_seconds, not before', () => {
    const { decisions } = run([
      [0, 'warning'],
      [30, 'warning'],
      [59, 'warning'],
      [60, 'warning'],
      [90, 'warning'],
    ]);
    expect(decisions).toEqual([{ kind: 'open', level: 'warning', t: 60 }]);
  });

  it('a breach that does not last opens nothing', () => {
    const { decisions, state } = run([
      [0, 'critical'],
      [30, 'ok'],
      [40, 'critical'],
      [70, 'ok'],
    ]);
    expect(decisions).toEqual([]);
    expect(state.incidentOpen).toBe(false);
  });

  it('escalates when the level worsens, and resolves after keep_firing_for_seconds clear', () => {
    const { decisions } = run([
      [0, 'warning'],
      [60, 'warning'],
      [90, 'critical'],
      [120, 'ok'],
      [200, 'ok'],
      [239, 'ok'],
      [240, 'ok'],
    ]);
    expect(decisions).toEqual([
      { kind: 'open', level: 'warning', t: 60 },
      { kind: 'escalate', level: 'critical', t: 90 },
      { kind: 'resolve', t: 240 },
    ]);
  });

  it('a signal crossing its threshold 20 times yields one incident, marked flapping, and no resolution while it flaps', () => {
    const fast = { for_seconds: 0, keep_firing_for_seconds: 0 };
    const seq: [number, Level][] = Array.from({ length: 40 }, (_, i) => [i * 15, i % 2 ? 'ok' : 'critical']);
    const { decisions, state } = run(seq, fast);
    expect(decisions.filter((d) => d.kind === 'open')).toHaveLength(1);
    expect(decisions.filter((d) => d.kind === 'resolve')).toHaveLength(0);
    expect(decisions.find((d) => d.kind === 'flapping')).toMatchObject({ flapping: true });
    expect(state.flapping).toBe(true);
    // Once it settles, the flapping mark goes and the incident resolves.
    const settled = run(
      Array.from({ length: 25 }, (_, i) => [600 + i * 15, 'ok'] as [number, Level]),
      fast,
      state,
    );
    expect(settled.decisions.map((d) => d.kind)).toEqual(['flapping', 'resolve']);
  });
});

describe('one breach and its recovery', () => {
  it('is not flapping, and resolves at the second clear evaluation even with keep_firing_for_seconds 0', () => {
    const fast = { for_seconds: 0, keep_firing_for_seconds: 0 };
    const { decisions, state } = run(
      [
        [0, 'critical'],
        [15, 'ok'],
        [30, 'ok'],
      ],
      fast,
    );
    expect(decisions).toEqual([
      { kind: 'open', level: 'critical', t: 0 },
      { kind: 'resolve', t: 30 },
    ]);
    expect(state.flapping).toBe(false);
  });
});

describe('percentStateChange', () => {
  it('is 0 for a steady signal and about 100 for one that changes every time', () => {
    expect(percentStateChange('111111111')).toBe(0);
    expect(percentStateChange('10101010101010101010')).toBeCloseTo(100, 0);
    expect(percentStateChange('00000000001')).toBeGreaterThan(0);
    expect(percentStateChange('1')).toBe(0);
  });
});
