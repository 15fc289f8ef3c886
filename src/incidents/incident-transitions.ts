import type { IncidentStatus } from './entities/incident.entity';

/** What an operator may do to an incident, from which statuses, and where it leads. */
export const TRANSITIONS = {
  ack: { from: ['triage'], to: 'active' },
  mitigate: { from: ['triage', 'active'], to: 'mitigated' },
  resolve: { from: ['triage', 'active', 'mitigated'], to: 'resolved' },
  close: { from: ['resolved'], to: 'closed' },
  cancel: { from: ['triage', 'active', 'mitigated'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly IncidentStatus[]; to: IncidentStatus }>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** The status `name` leads to from `from`, or null when it may not be taken from there. */
export function nextStatus(name: TransitionName, from: IncidentStatus): IncidentStatus | null {
  const t = TRANSITIONS[name];
  return (t.from as readonly IncidentStatus[]).includes(from) ? t.to : null;
}

/** Statuses in which an incident still counts as open. */
export function isOpen(status: IncidentStatus): boolean {
  return status === 'triage' || status === 'active' || status === 'mitigated';
}
