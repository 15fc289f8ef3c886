import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { AppConfig } from '../config';
import { ReadinessRegistry } from './readiness-registry';

export interface ReadinessOutcome {
  ready: boolean;
  result: HealthCheckResult;
}

/**
 * Runs every registered readiness check; results are reused for READINESS_CACHE_MS so that
 * however often probes come, the database sees at most one check per interval.
 */
@Injectable()
export class ReadinessService {
  private cached?: { at: number; outcome: Promise<ReadinessOutcome> };

  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ReadinessRegistry,
    private readonly config: AppConfig,
  ) {}

  check(): Promise<ReadinessOutcome> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.config.get('READINESS_CACHE_MS')) return this.cached.outcome;
    const outcome = this.run();
    this.cached = { at: now, outcome };
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
