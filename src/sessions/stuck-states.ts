/**
 * The stuck states of call-center sessions, as SQL conditions shared by the sweeper (which
 * fixes them) and the readiness report (which counts them), so "would fix" and "fixed" can
 * never drift apart. No Nest, no database here: only the text of the conditions.
 *
 * Every condition takes the same parameters: $1 SESSION_OFFLINE_AFTER_SECONDS,
 * $2 SESSION_ABANDON_AFTER_SECONDS, $3 one org id or NULL for all orgs, $4
 * SESSION_ROUTABLE_HEARTBEAT_SECONDS. Session conditions read
 * `agent_sessions s LEFT JOIN agent_presence p`; the call conditions read `calls c`.
 */
import { routableSql } from './presence';

/** In the order the sweeper applies them: call bookkeeping first, then status changes. */
export const STUCK_KINDS = [
  'call_pointers_cleared',
  'active_calls_recomputed',
  'offers_released',
  'pending_applied',
  'sessions_closed',
  'taken_offline',
  'stale_on_call_flagged',
  'queued_calls_offered',
] as const;

export type StuckKind = (typeof STUCK_KINDS)[number];
export type SweepCounts = Record<StuckKind, number>;

export interface StuckThresholds {
  offlineAfterSeconds: number;
  abandonAfterSeconds: number;
  routableHeartbeatSeconds: number;
}

export function stuckParams(t: StuckThresholds, orgId?: string | null): [number, number, string | null, number] {
  return [t.offlineAfterSeconds, t.abandonAfterSeconds, orgId ?? null, t.routableHeartbeatSeconds];
}

/**
 * A routable agent and a queued call may meet for a moment before the writer or the wake
 * loop (SESSION_WAKE_INTERVAL_MS) offers the call; only a meeting older than this is stuck.
 */
export const QUEUED_WITH_ROUTABLE_GRACE_SECONDS = 2;

export function emptyCounts(): SweepCounts {
  return Object.fromEntries(STUCK_KINDS.map((k) => [k, 0])) as SweepCounts;
}

export const LIVE_STATUSES_SQL = `('ringing', 'in_progress')`;
export const SESSION_FROM = 'agent_sessions s LEFT JOIN agent_presence p ON p.session_id = s.id';
export const OFFER_FROM = 'calls c';

/** A session without a presence row has been silent since it logged in. */
export const LAST_HEARTBEAT = 'coalesce(p.last_heartbeat, s.login_at)';
const OFFLINE_AFTER = '$1::float8';
const ABANDON_AFTER = '$2::float8';
const silentFor = (seconds: string) => `${LAST_HEARTBEAT} < now() - make_interval(secs => ${seconds})`;
const LIVE = `EXISTS (SELECT 1 FROM calls lc WHERE lc.session_id = s.id AND lc.status IN ${LIVE_STATUSES_SQL})`;
export const LIVE_CALL_COUNT = `(SELECT count(*)::int FROM calls lc WHERE lc.session_id = s.id AND lc.status IN ${LIVE_STATUSES_SQL})`;
/** The call a session should point at: an answered one before a ringing one. */
export const PREFERRED_LIVE_CALL = `(SELECT lc.id FROM calls lc WHERE lc.session_id = s.id AND lc.status IN ${LIVE_STATUSES_SQL}
  ORDER BY lc.status = 'in_progress' DESC, lc.assigned_at NULLS LAST, lc.id LIMIT 1)`;

const OPEN = 's.logout_at IS NULL';
const GRACE = `make_interval(secs => ${QUEUED_WITH_ROUTABLE_GRACE_SECONDS})`;

/**
 * Status fixes are mutually exclusive by heartbeat age, so one session is counted once:
 * silent past the abandon window → closed; silent past the offline window → offline;
 * otherwise a pending status may apply. A live call keeps a silent agent on (flagged instead).
 */
const CONDITIONS: Record<StuckKind, string> = {
  // Points at a call that is not live on this session (ended, re-queued, someone else's,
  // gone), or points nowhere while a live call exists.
  call_pointers_cleared: `${OPEN} AND (
    (s.current_call_id IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM calls pc WHERE pc.id = s.current_call_id AND pc.session_id = s.id AND pc.status IN ${LIVE_STATUSES_SQL}))
    OR (s.current_call_id IS NULL AND ${LIVE}))`,
  // Covers "on a call without a live call": the count must equal the live calls (capped).
  active_calls_recomputed: `${OPEN} AND s.active_calls <> least(${LIVE_CALL_COUNT}, s.capacity)`,
  offers_released: `c.status = 'ringing' AND c.reserved_until < now()`,
  pending_applied: `${OPEN} AND s.pending_status IS NOT NULL AND NOT ${LIVE}
    AND NOT (${silentFor(OFFLINE_AFTER)}) AND NOT (${silentFor(ABANDON_AFTER)})`,
  sessions_closed: `${OPEN} AND ${silentFor(ABANDON_AFTER)} AND NOT ${LIVE}`,
  taken_offline: `${OPEN} AND s.status <> 'offline' AND ${silentFor(OFFLINE_AFTER)}
    AND NOT (${silentFor(ABANDON_AFTER)}) AND NOT ${LIVE}`,
  // Once per silence: a flag older than the last heartbeat belongs to an earlier one.
  stale_on_call_flagged: `${OPEN} AND ${silentFor(OFFLINE_AFTER)} AND ${LIVE}
    AND (s.stale_flagged_at IS NULL OR s.stale_flagged_at < ${LAST_HEARTBEAT})`,
  // A call waiting while an agent of its org could take it: routable (the router's own rule)
  // since before the grace, e.g. a wrap-up or cooldown that ended with no wake-up running, or
  // an agent skipped while its row was locked by other work when the call came in.
  queued_calls_offered: `c.status = 'queued' AND c.queued_at < now() - ${GRACE} AND EXISTS (
    SELECT 1 FROM ${SESSION_FROM} WHERE s.org_id = c.org_id AND ${routableSql('$4::float8')}
      AND greatest(s.ready_at, coalesce(s.offer_cooldown_until, s.ready_at)) < now() - ${GRACE})`,
};

/** Kinds that read `calls c` (the rest read sessions). */
export function isCallKind(kind: StuckKind): boolean {
  return kind === 'offers_released' || kind === 'queued_calls_offered';
}

/** The WHERE clause (without the keyword) of one stuck state, org filter included. */
export function stuckWhere(kind: StuckKind): string {
  const org = isCallKind(kind) ? 'c.org_id' : 's.org_id';
  // Every parameter is typed here too, so every condition accepts the same parameter list.
  return `(${CONDITIONS[kind]}) AND ($3::uuid IS NULL OR ${org} = $3::uuid) AND $1::float8 IS NOT NULL AND $2::float8 IS NOT NULL AND $4::float8 IS NOT NULL`;
}

export function stuckFrom(kind: StuckKind): string {
  return isCallKind(kind) ? OFFER_FROM : SESSION_FROM;
}

/** One row: the count of every stuck state plus the context counts of the readiness report. */
export function countStuckSql(): string {
  const stuck = STUCK_KINDS.map((k) => `(SELECT count(*)::int FROM ${stuckFrom(k)} WHERE ${stuckWhere(k)}) AS ${k}`);
  const org = (col: string) => `($3::uuid IS NULL OR ${col} = $3::uuid)`;
  return `SELECT ${stuck.join(',\n  ')},
  (SELECT count(*)::int FROM agent_sessions s WHERE s.logout_at IS NULL AND ${org('s.org_id')}) AS open_sessions,
  (SELECT count(*)::int FROM calls c WHERE c.status IN ${LIVE_STATUSES_SQL} AND ${org('c.org_id')}) AS live_calls,
  (SELECT count(*)::int FROM calls c WHERE c.status = 'queued' AND ${org('c.org_id')}) AS queued_calls`;
}

/** The orgs that have at least one stuck state (the sweeper's cross-tenant finding step). */
export function orgsWithStuckStatesSql(): string {
  const parts = STUCK_KINDS.map(
    (k) => `SELECT ${isCallKind(k) ? 'c' : 's'}.org_id FROM ${stuckFrom(k)} WHERE ${stuckWhere(k)}`,
  );
  return `SELECT DISTINCT org_id FROM (${parts.join('\n  UNION ALL ')}) stuck ORDER BY org_id`;
}
