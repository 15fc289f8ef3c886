import type { AgentStatus } from './entities/agent-session.entity';

export interface SessionState {
  closed: boolean;
  status: AgentStatus;
  pendingStatus: 'away' | 'offline' | null;
  awayReason: string | null;
  activeCalls: number;
}

export interface StatusRequest {
  to: AgentStatus;
  reason?: string | null;
}

/** Columns written besides status. */
export interface StatusColumns {
  pending_status: 'away' | 'offline' | null;
  away_reason: string | null;
}

export type StatusDecision =
  /** The session is closed: nothing may change it (409). */
  | { kind: 'closed' }
  /** The request itself is wrong (400). */
  | { kind: 'invalid'; field: 'reason'; message: string }
  /** Already so: nothing written, nothing recorded (200). */
  | { kind: 'noop' }
  /** The status stays; only pending_status / away_reason change (no history row). */
  | { kind: 'update'; set: StatusColumns; offer: boolean }
  /** A real status change: through changeStatus (history row + event). */
  | { kind: 'change'; to: AgentStatus; set: StatusColumns; offer: boolean };

/**
 * What an agent's request for a status means for their session. Pure: the service loads the
 * row (locked), asks, and writes what it is told.
 *
 * - away needs a non-blank reason, kept in away_reason (also while it is pending, so the
 *   calls service can apply it later without asking again).
 * - away/offline while calls are in hand does not interrupt them: it becomes pending_status,
 *   applied when the last call ends.
 * - available always applies at once and cancels any pending away/offline; the caller then
 *   offers queued calls, since the agent may have become routable.
 * - asking for the current status is a 200 no-op, unless it cancels a pending change or
 *   replaces the away reason.
 */
export function decideStatusChange(s: SessionState, req: StatusRequest): StatusDecision {
  if (s.closed) return { kind: 'closed' };
  const reason = req.reason?.trim() ? req.reason.trim() : null;
  if (req.to === 'away' && reason === null) {
    return { kind: 'invalid', field: 'reason', message: 'reason is required when going away' };
  }
  const offer = req.to === 'available';
  const awayReason = req.to === 'away' ? reason : null;

  if (req.to === s.status) {
    if (s.pendingStatus === null && awayReason === s.awayReason) return { kind: 'noop' };
    return { kind: 'update', set: { pending_status: null, away_reason: awayReason }, offer };
  }
  if (req.to !== 'available' && s.activeCalls > 0) {
    // The status stays until the calls end: an away agent going offline keeps their away reason meanwhile.
    const kept = req.to === 'away' ? reason : s.awayReason;
    return { kind: 'update', set: { pending_status: req.to, away_reason: kept }, offer: false };
  }
  return { kind: 'change', to: req.to, set: { pending_status: null, away_reason: awayReason }, offer };
}
