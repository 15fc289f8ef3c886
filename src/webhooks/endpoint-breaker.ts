import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { MetricsService } from '../../libs/observability';
import { CircuitBreaker } from '../../libs/resilience';
import type { BreakerOptions, BreakerSnapshot, BreakerState } from '../../libs/resilience';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';

export interface BreakerDecision {
  allowed: boolean;
  /** The state as of now (an open breaker past its cooldown reads half_open). */
  state: BreakerState;
  /** When not allowed: how long to wait before asking again. */
  retryInMs: number;
}

type BreakerRow = Pick<
  WebhookEndpoint,
  'breakerState' | 'breakerFailures' | 'breakerOpenedAt' | 'breakerProbeInFlight' | 'updatedAt'
>;

function snapshotOf(e: BreakerRow, staleProbeMs: number, now: number): BreakerSnapshot {
  // A probe whose worker died never reports back; once it is older than any attempt can take,
  // it no longer blocks the next probe. (Breaker writes set updated_at, so it marks the probe's start.)
  const probeLost = e.breakerProbeInFlight && now - e.updatedAt.getTime() > staleProbeMs;
  return {
    state: e.breakerState,
    consecutiveFailures: e.breakerFailures,
    openedAt: e.breakerOpenedAt?.getTime() ?? null,
    probeInFlight: e.breakerProbeInFlight && !probeLost,
  };
}

/** The breaker state an endpoint's GET should show (open past its cooldown reads half_open). */
export function effectiveBreakerState(e: BreakerRow, cooldownMs: number, now: number = Date.now()): BreakerState {
  return new CircuitBreaker({ failureThreshold: 1, cooldownMs }, snapshotOf(e, Infinity, now), () => now).state;
}

/**
 * Each endpoint's circuit breaker, kept in its row so every replica shares it. Callers lock
 * the row (SELECT … FOR UPDATE) in a short transaction for each step; no transaction is ever
 * held across the HTTP call. `webhook_breakers{state}` counts endpoints per state at scrape.
 */
@Injectable()
export class EndpointBreaker implements OnModuleInit {
  private readonly logger = new Logger('WebhookBreaker');

  constructor(
    private readonly config: AppConfig,
    private readonly db: DatabaseService,
    private readonly metrics: MetricsService,
  ) {}

  get options(): BreakerOptions {
    return {
      failureThreshold: this.config.get('WEBHOOK_BREAKER_FAILURES'),
      cooldownMs: this.config.get('WEBHOOK_BREAKER_COOLDOWN_SECONDS') * 1000,
    };
  }

  /** No attempt runs longer than this (timeout plus the time to record it). */
  get staleAfterMs(): number {
    return this.config.get('WEBHOOK_TIMEOUT_MS') + 30_000;
  }

  /** How long a delivery waits while another delivery is the half-open probe. */
  private get probeWaitMs(): number {
    return Math.max(1000, Math.min(this.options.cooldownMs, this.config.get('WEBHOOK_TIMEOUT_MS')));
  }

  onModuleInit(): void {
    if (this.metrics.registry.getSingleMetric('webhook_breakers')) return;
    const count = () => this.countByState();
    const warn = (err: Error) => this.logger.warn(`webhook_breakers not collected: ${err.message}`);
    new Gauge({
      name: 'webhook_breakers',
      help: 'Enabled webhook endpoints by circuit-breaker state (computed from the database at scrape; the same in every replica).',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const counts = await count().catch((err: Error) => {
          warn(err);
          return undefined;
        });
        if (!counts) return;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  /** Asks for one attempt. `endpoint` must have been read FOR UPDATE in `m`'s transaction. */
  async acquire(m: EntityManager, endpoint: WebhookEndpoint, now: number = Date.now()): Promise<BreakerDecision> {
    const breaker = new CircuitBreaker(this.options, snapshotOf(endpoint, this.staleAfterMs, now), () => now);
    const allowed = breaker.tryAcquire();
    const state = breaker.state;
    if (allowed) {
      await this.save(m, endpoint, breaker.snapshot);
      return { allowed, state, retryInMs: 0 };
    }
    return { allowed, state, retryInMs: state === 'open' ? breaker.retryInMs : this.probeWaitMs };
  }

  /** Records an attempt's outcome. `endpoint` must have been read FOR UPDATE in `m`'s transaction. */
  async record(m: EntityManager, endpoint: WebhookEndpoint, success: boolean, now: number = Date.now()): Promise<void> {
    const breaker = new CircuitBreaker(this.options, snapshotOf(endpoint, this.staleAfterMs, now), () => now);
    if (success) breaker.recordSuccess();
    else breaker.recordFailure();
    await this.save(m, endpoint, breaker.snapshot);
  }

  private async save(m: EntityManager, e: WebhookEndpoint, s: BreakerSnapshot): Promise<void> {
    const openedAt = s.openedAt === null ? null : new Date(s.openedAt);
    const unchanged =
      s.state === e.breakerState &&
      s.consecutiveFailures === e.breakerFailures &&
      s.probeInFlight === e.breakerProbeInFlight &&
      (openedAt?.getTime() ?? null) === (e.breakerOpenedAt?.getTime() ?? null);
    if (unchanged) return;
    if (s.state !== e.breakerState) {
      this.logger.log({ endpoint_id: e.id, from: e.breakerState, to: s.state }, `breaker ${s.state}`);
    }
    await m.query(
      `UPDATE webhook_endpoints SET breaker_state = $2, breaker_failures = $3, breaker_opened_at = $4,
         breaker_probe_in_flight = $5, updated_at = now() WHERE id = $1`,
      [e.id, s.state, s.consecutiveFailures, openedAt, s.probeInFlight],
    );
    Object.assign(e, {
      breakerState: s.state,
      breakerFailures: s.consecutiveFailures,
      breakerOpenedAt: openedAt,
      breakerProbeInFlight: s.probeInFlight,
    });
  }

  /** Cross-tenant count for the gauge (system connection: a metric, no tenant data leaves). */
  async countByState(): Promise<Record<BreakerState, number>> {
    if (!this.db.connected) throw new Error('database not connected');
    const rows = (await this.db.system.query(
      `SELECT CASE WHEN breaker_state = 'open' AND breaker_opened_at + make_interval(secs => $1) <= now()
                   THEN 'half_open' ELSE breaker_state END AS state, count(*)::int AS n
       FROM webhook_endpoints WHERE enabled AND deleted_at IS NULL GROUP BY 1`,
      [this.options.cooldownMs / 1000],
    )) as { state: BreakerState; n: number }[];
    const counts: Record<BreakerState, number> = { closed: 0, open: 0, half_open: 0 };
    for (const r of rows) counts[r.state] = r.n;
    return counts;
  }
}
