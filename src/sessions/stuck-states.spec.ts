import {
  countStuckSql,
  emptyCounts,
  orgsWithStuckStatesSql,
  STUCK_KINDS,
  stuckFrom,
  stuckParams,
  stuckWhere,
} from './stuck-states';

describe('stuck-state conditions', () => {
  it('scope every condition by the optional org and use only the three shared parameters', () => {
    for (const kind of STUCK_KINDS) {
      const where = stuckWhere(kind);
      const alias = kind === 'offers_released' ? 'c' : 's';
      expect(where).toContain(`$3::uuid IS NULL OR ${alias}.org_id = $3::uuid`);
      expect(stuckFrom(kind).startsWith(kind === 'offers_released' ? 'calls c' : 'agent_sessions s')).toBe(true);
      const placeholders = new Set(where.match(/\$\d+/g));
      expect([...placeholders].sort()).toEqual(['$1', '$2', '$3']);
    }
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
    expect(stuckParams({ offlineAfterSeconds: 120, abandonAfterSeconds: 7200 })).toEqual([120, 7200, null]);
    expect(stuckParams({ offlineAfterSeconds: 2, abandonAfterSeconds: 9 }, 'org')).toEqual([2, 9, 'org']);
    expect(Object.keys(emptyCounts()).sort()).toEqual([...STUCK_KINDS].sort());
    expect(Object.values(emptyCounts()).every((n) => n === 0)).toBe(true);
  });
});
