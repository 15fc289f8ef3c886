export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long the breaker stays open before one probe is allowed. */
  cooldownMs: number;
}

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: number | null;
  probeInFlight: boolean;
}

/**
 * Per-target circuit breaker. The state is plain data (a snapshot) so callers can keep it
 * in the database and share it across replicas; `now` is injected to keep it testable.
 */
export class CircuitBreaker {
  private snap: BreakerSnapshot;

  constructor(
    private readonly options: BreakerOptions,
    snapshot?: Partial<BreakerSnapshot>,
    private readonly now: () => number = Date.now,
  ) {
    this.snap = { state: 'closed', consecutiveFailures: 0, openedAt: null, probeInFlight: false, ...snapshot };
  }

  get snapshot(): BreakerSnapshot {
    return { ...this.snap, state: this.state };
  }

  /** The state as of now: an open breaker past its cooldown reads as half-open. */
  get state(): BreakerState {
    if (this.snap.state === 'open' && this.snap.openedAt !== null) {
      if (this.now() - this.snap.openedAt >= this.options.cooldownMs) return 'half_open';
    }
    return this.snap.state;
  }

  /** Milliseconds until a probe may run (0 when a call may go now). */
  get retryInMs(): number {
    if (this.state !== 'open' || this.snap.openedAt === null) return 0;
    return Math.max(0, this.snap.openedAt + this.options.cooldownMs - this.now());
  }

  /** Asks permission for one call; in half-open only one probe is let through. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.snap.probeInFlight) return false;
    this.snap = { ...this.snap, state: 'half_open', probeInFlight: true };
    return true;
  }

  recordSuccess(): void {
    this.snap = { state: 'closed', consecutiveFailures: 0, openedAt: null, probeInFlight: false };
  }

  recordFailure(): void {
    const failures = this.snap.consecutiveFailures + 1;
    const wasProbe = this.state === 'half_open';
    if (wasProbe || failures >= this.options.failureThreshold) {
      this.snap = { state: 'open', consecutiveFailures: failures, openedAt: this.now(), probeInFlight: false };
    } else {
      this.snap = { ...this.snap, consecutiveFailures: failures };
    }
  }
}
