import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { ProductionCheckRegistry } from '../core';
import type { CheckOutcome } from '../core';
import { DatabaseService } from '../database';
import { PostgresThrottlerStorage } from './postgres-throttler.storage';

/** A limit this high per hour limits nothing a client could notice. */
const EFFECTIVELY_OFF_PER_HOUR = 1_000_000;

/**
 * Rate limits in the readiness report: the limits in force, and whether this process shares its
 * counts with the other replicas (flushing on its timer, last write succeeded). A process that
 * stopped sharing enforces its limits alone, so N replicas would admit N times the plan.
 */
@Injectable()
export class RateLimitCheck implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly storage: PostgresThrottlerStorage,
    private readonly config: AppConfig,
    private readonly db: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'rate_limits',
      title: 'Rate limits are in force per org plan and per IP, and counted across replicas.',
      remedy:
        'Keep RATE_LIMIT_* at real limits; if counts are not written, check the database connection of this process (its log says why).',
      run: () => this.run(),
    });
  }

  private async run(): Promise<CheckOutcome> {
    const limits = {
      free_per_hour: this.config.get('RATE_LIMIT_FREE_PER_HOUR'),
      pro_per_hour: this.config.get('RATE_LIMIT_PRO_PER_HOUR'),
      enterprise_per_hour: this.config.get('RATE_LIMIT_ENTERPRISE_PER_HOUR'),
      ip_per_15_min: this.config.get('RATE_LIMIT_IP_PER_15_MIN'),
    };
    const state = this.storage.state();
    const [{ live }] = (await this.db.system.query(
      `SELECT count(*)::int AS live FROM rate_limit_counters WHERE expires_at > now()`,
    )) as { live: number }[];
    const loose = Object.entries(limits)
      .filter(([name, v]) => (name === 'ip_per_15_min' ? v * 4 : v) >= EFFECTIVELY_OFF_PER_HOUR)
      .map(([name]) => name);
    const notShared = !state.flushing || state.last_write?.ok === false;
    return {
      verdict: notShared ? 'fail' : loose.length ? 'warn' : 'pass',
      evidence: {
        limits,
        flush_ms: this.config.get('RATE_LIMIT_FLUSH_MS'),
        sharing_counts: state.flushing,
        last_write: state.last_write ?? null,
        keys_counted_here: state.keys,
        shared_counters_live: live,
        effectively_unlimited: loose,
      },
    };
  }
}
