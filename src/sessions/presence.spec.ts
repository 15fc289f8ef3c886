import { derivePresence, isHeartbeatFresh, isRoutable, RoutingFacts } from './presence';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const WINDOW = 45;

const routable: RoutingFacts = {
  deviceConnected: true,
  lastHeartbeat: ago(1),
  logoutAt: null,
  status: 'available',
  pendingStatus: null,
  activeCalls: 0,
  capacity: 1,
  readyAt: ago(10),
  offerCooldownUntil: null,
};

describe('derivePresence', () => {
  it('is disconnected when the device is not connected, however fresh the heartbeat', () => {
    expect(derivePresence({ deviceConnected: false, lastHeartbeat: NOW }, NOW, WINDOW)).toBe('disconnected');
  });

  it('is connected while the heartbeat is strictly younger than the window', () => {
    expect(derivePresence({ deviceConnected: true, lastHeartbeat: NOW }, NOW, WINDOW)).toBe('connected');
    expect(derivePresence({ deviceConnected: true, lastHeartbeat: ago(44.999) }, NOW, WINDOW)).toBe('connected');
  });

  it('is stale from exactly the window on (the router uses last_heartbeat > now - window)', () => {
    expect(derivePresence({ deviceConnected: true, lastHeartbeat: ago(45) }, NOW, WINDOW)).toBe('stale');
    expect(derivePresence({ deviceConnected: true, lastHeartbeat: ago(3600) }, NOW, WINDOW)).toBe('stale');
    expect(isHeartbeatFresh(ago(1), NOW, 1)).toBe(false);
    expect(isHeartbeatFresh(ago(0.5), NOW, 1)).toBe(true);
  });

  it('treats a heartbeat from the future (clock skew) as fresh', () => {
    expect(derivePresence({ deviceConnected: true, lastHeartbeat: ago(-5) }, NOW, WINDOW)).toBe('connected');
  });
});

describe('isRoutable', () => {
  it('is true when every condition holds', () => {
    expect(isRoutable(routable, NOW, WINDOW)).toBe(true);
    expect(isRoutable({ ...routable, readyAt: NOW, offerCooldownUntil: NOW }, NOW, WINDOW)).toBe(true);
    expect(isRoutable({ ...routable, capacity: 3, activeCalls: 2 }, NOW, WINDOW)).toBe(true);
  });

  it.each<[string, Partial<RoutingFacts>]>([
    ['closed', { logoutAt: ago(1) }],
    ['away', { status: 'away' }],
    ['offline', { status: 'offline' }],
    ['pending away', { pendingStatus: 'away' }],
    ['pending offline', { pendingStatus: 'offline' }],
    ['device disconnected', { deviceConnected: false }],
    ['heartbeat stale', { lastHeartbeat: ago(WINDOW) }],
    ['at capacity', { activeCalls: 1 }],
    ['over capacity', { activeCalls: 2, capacity: 1 }],
    ['in wrap-up', { readyAt: ago(-1) }],
    ['in offer cooldown', { offerCooldownUntil: ago(-0.001) }],
  ])('is false when %s', (_, change) => {
    expect(isRoutable({ ...routable, ...change }, NOW, WINDOW)).toBe(false);
  });

  it('follows the configured window', () => {
    const silent = { ...routable, lastHeartbeat: ago(2) };
    expect(isRoutable(silent, NOW, 1)).toBe(false);
    expect(isRoutable(silent, NOW, 3)).toBe(true);
  });
});
