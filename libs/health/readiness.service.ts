import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { AppConfig } from '../config';
import { Clock, ReadinessRegistry } from '../core';

export interface ReadinessOutcome {
  ready: boolean;
  result: HealthCheckResult;
}

/**
 * What a readiness answer shows: every check's details to operators, the status alone to
 * anyone else (details name the database role, RLS state, queues and versions).
 */
export function readinessBody(result: HealthCheckResult, detailed: boolean): HealthCheckResult | { status: string } {
  return detailed ? result : { status: result.status };
}

/** A "not ready" answer is reused this long at most, so readiness turns 200 soon after it can. */
export const NOT_READY_CACHE_MS = 100;

/**
 * Runs every registered readiness check; results are reused for READINESS_CACHE_MS so that
 * however often probes come, the database sees at most one check per interval. A failure is
 * reused for NOT_READY_CACHE_MS at most (a booting replica becomes ready without waiting out
 * a cached 503), and an error is not reused at all.
 */
@Injectable()
export class ReadinessService {
  private cached?: { until: number; outcome: Promise<ReadinessOutcome> };

  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ReadinessRegistry,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  check(): Promise<ReadinessOutcome> {
    const now = this.clock.now();
    if (this.cached && now < this.cached.until) return this.cached.outcome;
    const outcome = this.run();
    const entry = { until: now + this.config.get('READINESS_CACHE_MS'), outcome };
    this.cached = entry;
    outcome.then(
      (o) => {
        if (!o.ready) entry.until = Math.min(entry.until, this.clock.now() + NOT_READY_CACHE_MS);
      },
      () => {
        entry.until = 0;
      },
    );
    return outcome;
  }

  /** Drops the cache (shutdown must turn readiness 503 at once). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async run(): Promise<ReadinessOutcome> {
    try {
      const result = await this.health.check(this.registry.all());
      return { ready: true, result };
    } catch (err) {
      if (err instanceof ServiceUnavailableException) {
        return { ready: false, result: err.getResponse() as HealthCheckResult };
      }
      throw err;
    }
  }
}
