import type { Level, Rule } from '../signals/rules';

/** How many evaluations the flap detection looks back over. */
export const FLAP_WINDOW = 21;
/** Percent state change at or above which a condition is flapping, and below which it stops. */
export const FLAP_HIGH = 50;
export const FLAP_LOW = 25;
/** Fewer state changes than this in the window is never flapping (one breach and its recovery is not). */
export const FLAP_MIN_CHANGES = 3;

/** What the detector remembers of one condition (`signal:scope[:resource]`) between ticks. */
export interface ConditionState {
  /** The worst level of the open incident, or 'ok' when none is open. */
  level: Level;
  /** Breached ('1') or not ('0') at each of the last FLAP_WINDOW evaluations, oldest first. */
  history: string;
  breachedSince: Date | null;
  clearSince: Date | null;
  flapping: boolean;
  incidentOpen: boolean;
}

export type Decision =
  | { kind: 'open'; level: Exclude<Level, 'ok'> }
  | { kind: 'escalate'; level: Exclude<Level, 'ok'> }
  | { kind: 'resolve' }
  | { kind: 'flapping'; flapping: boolean };

export const INITIAL_STATE: ConditionState = {
  level: 'ok',
  history: '',
  breachedSince: null,
  clearSince: null,
  flapping: false,
  incidentOpen: false,
};

/**
 * Percent state change over the history, recent changes weighing more (0.8 for the oldest
 * transition up to 1.2 for the newest), as Nagios measures flapping. 0 for a steady signal,
 * about 100 for one that changes at every evaluation.
 */
export function percentStateChange(history: string): number {
  const n = history.length;
  if (n < 2) return 0;
  let weighted = 0;
  for (let i = 1; i < n; i++) {
    if (history[i] !== history[i - 1]) weighted += 0.8 + (0.4 * (i - 1)) / Math.max(1, n - 2);
  }
  return (weighted / (n - 1)) * 100;
}

function changesIn(history: string): number {
  let n = 0;
  for (let i = 1; i < history.length; i++) if (history[i] !== history[i - 1]) n++;
  return n;
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

/**
 * One evaluation of a condition: its observed level now → the new state and what to do. An
 * incident opens once the breach has held for `for_seconds`, escalates when the level worsens,
 * and resolves once the condition has been clear for `keep_firing_for_seconds` (and two
 * evaluations) and is not flapping. A flapping condition keeps its one incident open (and silent) until it settles.
 */
export function evaluateCondition(
  prev: ConditionState,
  observed: Level,
  now: Date,
  rule: Pick<Rule, 'for_seconds' | 'keep_firing_for_seconds'>,
): { state: ConditionState; decisions: Decision[] } {
  const breached = observed !== 'ok';
  const history = (prev.history + (breached ? '1' : '0')).slice(-FLAP_WINDOW);
  const change = percentStateChange(history);
  const flapping = prev.flapping ? change >= FLAP_LOW : change >= FLAP_HIGH && changesIn(history) >= FLAP_MIN_CHANGES;
  const state: ConditionState = {
    ...prev,
    history,
    flapping,
    breachedSince: breached ? (prev.breachedSince ?? now) : null,
    clearSince: breached ? null : (prev.clearSince ?? (prev.incidentOpen ? now : null)),
  };
  const decisions: Decision[] = [];
  if (flapping !== prev.flapping && prev.incidentOpen) decisions.push({ kind: 'flapping', flapping });
  const held = (since: Date | null, seconds: number) =>
    since !== null && now.getTime() - since.getTime() >= seconds * 1000;

  if (!prev.incidentOpen) {
    if (breached && held(state.breachedSince, rule.for_seconds)) {
      const level = observed as Exclude<Level, 'ok'>;
      decisions.push({ kind: 'open', level });
      return { state: { ...state, level, incidentOpen: true, clearSince: null }, decisions };
    }
    return { state: { ...state, level: 'ok' }, decisions };
  }
  if (breached && RANK[observed] > RANK[prev.level]) {
    const level = observed as Exclude<Level, 'ok'>;
    decisions.push({ kind: 'escalate', level });
    return { state: { ...state, level }, decisions };
  }
  // Clear for keep_firing_for_seconds, and for two evaluations at least: a single clear reading
  // between breaches is what flapping looks like before it can be told apart.
  if (!breached && !flapping && history.endsWith('00') && held(state.clearSince, rule.keep_firing_for_seconds)) {
    decisions.push({ kind: 'resolve' });
    return { state: { ...state, level: 'ok', incidentOpen: false, clearSince: null }, decisions };
  }
  return { state, decisions };
}
