import { decideStatusChange, SessionState } from './status-rules';

const open: SessionState = {
  closed: false,
  status: 'available',
  pendingStatus: null,
  awayReason: null,
  activeCalls: 0,
};

describe('decideStatusChange', () => {
  it('refuses any change to a closed session', () => {
    for (const to of ['available', 'away', 'offline'] as const) {
      expect(decideStatusChange({ ...open, closed: true, status: 'offline' }, { to, reason: 'x' })).toEqual({
        kind: 'closed',
      });
    }
  });

  it('requires a non-blank reason for away', () => {
    const invalid = { kind: 'invalid', field: 'reason', message: 'reason is required when going away' };
    expect(decideStatusChange(open, { to: 'away' })).toEqual(invalid);
    expect(decideStatusChange(open, { to: 'away', reason: null })).toEqual(invalid);
    expect(decideStatusChange(open, { to: 'away', reason: '   ' })).toEqual(invalid);
  });

  it('changes available → away at once when no call is in hand, keeping the trimmed reason', () => {
    expect(decideStatusChange(open, { to: 'away', reason: ' lunch ' })).toEqual({
      kind: 'change',
      to: 'away',
      set: { pending_status: null, away_reason: 'lunch' },
      offer: false,
    });
  });

  it('changes to offline and clears the away reason', () => {
    const away: SessionState = { ...open, status: 'away', awayReason: 'lunch' };
    expect(decideStatusChange(away, { to: 'offline', reason: 'end of shift' })).toEqual({
      kind: 'change',
      to: 'offline',
      set: { pending_status: null, away_reason: null },
      offer: false,
    });
  });

  it('changes to available at once even with calls in hand, clearing pending and reason, and asks for an offer', () => {
    const away: SessionState = {
      ...open,
      status: 'away',
      awayReason: 'lunch',
      pendingStatus: 'offline',
      activeCalls: 1,
    };
    expect(decideStatusChange(away, { to: 'available' })).toEqual({
      kind: 'change',
      to: 'available',
      set: { pending_status: null, away_reason: null },
      offer: true,
    });
  });

  it('makes away/offline pending while calls are in hand', () => {
    const busy: SessionState = { ...open, activeCalls: 2 };
    expect(decideStatusChange(busy, { to: 'away', reason: 'break' })).toEqual({
      kind: 'update',
      set: { pending_status: 'away', away_reason: 'break' },
      offer: false,
    });
    expect(decideStatusChange(busy, { to: 'offline' })).toEqual({
      kind: 'update',
      set: { pending_status: 'offline', away_reason: null },
      offer: false,
    });
    const busyAway: SessionState = { ...busy, status: 'away', awayReason: 'break' };
    expect(decideStatusChange(busyAway, { to: 'offline' })).toEqual({
      kind: 'update',
      set: { pending_status: 'offline', away_reason: 'break' },
      offer: false,
    });
  });

  it('is a no-op when the status is already the one asked for', () => {
    expect(decideStatusChange(open, { to: 'available' })).toEqual({ kind: 'noop' });
    expect(decideStatusChange({ ...open, status: 'offline' }, { to: 'offline', reason: 'again' })).toEqual({
      kind: 'noop',
    });
    const away: SessionState = { ...open, status: 'away', awayReason: 'lunch' };
    expect(decideStatusChange(away, { to: 'away', reason: 'lunch' })).toEqual({ kind: 'noop' });
  });

  it('cancels a pending change when the current status is asked for again', () => {
    const pending: SessionState = { ...open, activeCalls: 1, pendingStatus: 'away', awayReason: 'break' };
    expect(decideStatusChange(pending, { to: 'available' })).toEqual({
      kind: 'update',
      set: { pending_status: null, away_reason: null },
      offer: true,
    });
  });

  it('replaces the away reason without a status change', () => {
    const away: SessionState = { ...open, status: 'away', awayReason: 'lunch' };
    expect(decideStatusChange(away, { to: 'away', reason: 'training' })).toEqual({
      kind: 'update',
      set: { pending_status: null, away_reason: 'training' },
      offer: false,
    });
  });
});
