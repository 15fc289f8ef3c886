import type { AgentStatus } from './entities/agent-session.entity';

/**
 * What the system sees of an agent, and whether the router may put a call on them. The rule
 * exists twice on purpose: as SQL (filtering and the router's claim must run in the database)
 * and as these pure functions (unit-tested; the e2e test checks both agree). Change them together.
 */
export const PRESENCES = ['connected', 'stale', 'disconnected'] as const;
export type Presence = (typeof PRESENCES)[number];

export interface PresenceFacts {
  deviceConnected: boolean;
  lastHeartbeat: Date;
}

export interface RoutingFacts extends PresenceFacts {
  logoutAt: Date | null;
  status: AgentStatus;
  pendingStatus: 'away' | 'offline' | null;
  activeCalls: number;
  capacity: number;
  readyAt: Date;
  offerCooldownUntil: Date | null;
}

/** A heartbeat is fresh while strictly younger than the window (the router's `>`). */
export function isHeartbeatFresh(lastHeartbeat: Date, now: Date, windowSeconds: number): boolean {
  return lastHeartbeat.getTime() > now.getTime() - windowSeconds * 1000;
}

export function derivePresence(p: PresenceFacts, now: Date, windowSeconds: number): Presence {
  if (!p.deviceConnected) return 'disconnected';
  return isHeartbeatFresh(p.lastHeartbeat, now, windowSeconds) ? 'connected' : 'stale';
}

export function isRoutable(s: RoutingFacts, now: Date, windowSeconds: number): boolean {
  const t = now.getTime();
  return (
    s.logoutAt === null &&
    s.status === 'available' &&
    s.pendingStatus === null &&
    derivePresence(s, now, windowSeconds) === 'connected' &&
    s.activeCalls < s.capacity &&
    s.readyAt.getTime() <= t &&
    (s.offerCooldownUntil === null || s.offerCooldownUntil.getTime() <= t)
  );
}

/**
 * The same rules as SQL over `agent_sessions s LEFT JOIN agent_presence p`; `window` is the
 * bind parameter holding SESSION_ROUTABLE_HEARTBEAT_SECONDS (e.g. `$2`). Mirrors CallRouter's claim.
 */
export function presenceSql(window: string): string {
  return `CASE WHEN NOT coalesce(p.device_connected, false) THEN 'disconnected'
    WHEN p.last_heartbeat > now() - make_interval(secs => ${window}) THEN 'connected'
    ELSE 'stale' END`;
}

export function routableSql(window: string): string {
  return `coalesce(s.logout_at IS NULL AND s.status = 'available' AND s.pending_status IS NULL
    AND p.device_connected AND p.last_heartbeat > now() - make_interval(secs => ${window})
    AND s.active_calls < s.capacity AND s.ready_at <= now()
    AND (s.offer_cooldown_until IS NULL OR s.offer_cooldown_until <= now()), false)`;
}
