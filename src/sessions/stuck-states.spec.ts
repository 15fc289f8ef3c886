import {
  countStuckSql,
  emptyCounts,
  isCallKind,
  orgsWithStuckStatesSql,
  QUEUED_WITH_ROUTABLE_GRACE_SECONDS,
  STUCK_KINDS,
  stuckFrom,
  stuckParams,
  stuckWhere,
} from './stuck-states';
import { routableSql } from './presence';

describe('stuck-state conditions', () => {
  it('scope every condition by the optional org and use only the four shared parameters', () => {
    for (const kind of STUCK_KINDS) {
      const where = stuckWhere(kind);
      const onCalls = kind === 'offers_released' || kind === 'queued_calls_offered';
      expect(isCallKind(kind)).toBe(onCalls);
      const alias = onCalls ? 'c' : 's';
      expect(where).toContain(`$3::uuid IS NULL OR ${alias}.org_id = $3::uuid`);
      expect(stuckFrom(kind).startsWith(onCalls ? 'calls c' : 'agent_sessions s')).toBe(true);
      const placeholders = new Set(where.match(/\$\d+/g));
      expect([...placeholders].sort()).toEqual(['$1', '$2', '$3', '$4']);
    }
  });

  it("call a queued call stuck only beside an agent routable by the router's own rule, past a grace", () => {
    const where = stuckWhere('queued_calls_offered');
    expect(where).toContain(routableSql('$4::float8'));
    expect(where).toContain(`c.queued_at < now() - make_interval(secs => ${QUEUED_WITH_ROUTABLE_GRACE_SECONDS})`);
    expect(STUCK_KINDS[STUCK_KINDS.length - 1]).toBe('queued_calls_offered');
  });

  it('count and find with the very same conditions the sweeper fixes with', () => {
    const count = countStuckSql();
    const find = orgsWithStuckStatesSql();
    for (const kind of STUCK_KINDS) {
      expect(count).toContain(`WHERE ${stuckWhere(kind)}) AS ${kind}`);
      expect(find).toContain(`FROM ${stuckFrom(kind)} WHERE ${stuckWhere(kind)}`);
    }
    for (const extra of ['open_sessions', 'live_calls', 'queued_calls']) expect(count).toContain(`AS ${extra}`);
  });

  it('keep a session out of two status fixes: closing, going offline and pending are split by heartbeat age', () => {
    const pending = stuckWhere('pending_applied');
    const offline = stuckWhere('taken_offline');
    const closed = stuckWhere('sessions_closed');
    const silentAbandon = 'coalesce(p.last_heartbeat, s.login_at) < now() - make_interval(secs => $2::float8)';
    const silentOffline = 'coalesce(p.last_heartbeat, s.login_at) < now() - make_interval(secs => $1::float8)';
    expect(closed).toContain(silentAbandon);
    expect(offline).toContain(`NOT (${silentAbandon})`);
    expect(pending).toContain(`NOT (${silentAbandon})`);
    expect(pending).toContain(`NOT (${silentOffline})`);
    // A live call keeps a silent agent on: only the stale flag applies then.
    for (const where of [pending, offline, closed]) expect(where).toMatch(/NOT EXISTS \(SELECT 1 FROM calls lc/);
    expect(stuckWhere('stale_on_call_flagged')).toMatch(/AND EXISTS \(SELECT 1 FROM calls lc/);
  });

  it('builds parameters and zero counts for every kind', () => {
    const t = { offlineAfterSeconds: 120, abandonAfterSeconds: 7200, routableHeartbeatSeconds: 45 };
    expect(stuckParams(t)).toEqual([120, 7200, null, 45]);
    expect(stuckParams({ ...t, offlineAfterSeconds: 2, abandonAfterSeconds: 9 }, 'org')).toEqual([2, 9, 'org', 45]);
    expect(Object.keys(emptyCounts()).sort()).toEqual([...STUCK_KINDS].sort());
    expect(Object.values(emptyCounts()).every((n) => n === 0)).toBe(true);
  });
});
