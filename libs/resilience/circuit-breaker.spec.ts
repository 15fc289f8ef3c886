import { CircuitBreaker } from './circuit-breaker';

const options = { failureThreshold: 3, cooldownMs: 10000 };

function setup() {
  let t = 1_000_000;
  const clock = {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
  return { clock, breaker: new CircuitBreaker(options, undefined, clock.now) };
}

describe('CircuitBreaker', () => {
  it('starts closed and lets calls through', () => {
    const { breaker } = setup();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.retryInMs).toBe(0);
  });

  it('opens after failureThreshold consecutive failures', () => {
    const { breaker } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    expect(breaker.snapshot.consecutiveFailures).toBe(2);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs).toBe(10000);
  });

  it('resets the failure count on success', () => {
    const { breaker } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    expect(breaker.snapshot.consecutiveFailures).toBe(0);
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
  });

  it('turns half-open once the cooldown has passed', () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(9999);
    expect(breaker.state).toBe('open');
    expect(breaker.retryInMs).toBe(1);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(breaker.state).toBe('half_open');
    expect(breaker.retryInMs).toBe(0);
  });

  it('lets only one probe through while half-open', () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(10000);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.snapshot).toMatchObject({ state: 'half_open', probeInFlight: true });
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(60000);
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('reopens, with a fresh cooldown, when the probe fails', () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(10000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.snapshot).toMatchObject({ probeInFlight: false, openedAt: clock.now() });
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryInMs).toBe(10000);
    clock.advance(10000);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('closes when the probe succeeds', () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(10000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordSuccess();
    expect(breaker.snapshot).toEqual({
      state: 'closed',
      consecutiveFailures: 0,
      openedAt: null,
      probeInFlight: false,
    });
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    // A single failure after recovery does not reopen it.
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
  });

  it('round-trips its snapshot into a new CircuitBreaker', () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    clock.advance(4000);

    const saved = JSON.parse(JSON.stringify(breaker.snapshot));
    const restored = new CircuitBreaker(options, saved, clock.now);
    expect(restored.snapshot).toEqual(breaker.snapshot);
    expect(restored.state).toBe('open');
    expect(restored.retryInMs).toBe(6000);
    expect(restored.tryAcquire()).toBe(false);

    clock.advance(6000);
    expect(restored.tryAcquire()).toBe(true);
    // The probe claim travels in the snapshot: a second replica gets no probe.
    const other = new CircuitBreaker(options, restored.snapshot, clock.now);
    expect(other.state).toBe('half_open');
    expect(other.tryAcquire()).toBe(false);
  });

  it('restores a closed snapshot with its failure count', () => {
    const { breaker, clock } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    const restored = new CircuitBreaker(options, breaker.snapshot, clock.now);
    expect(restored.state).toBe('closed');
    restored.recordFailure();
    expect(restored.state).toBe('open');
  });
});
