import { Injectable } from '@nestjs/common';

export const CHECK_VERDICTS = ['pass', 'warn', 'fail'] as const;
export type CheckVerdict = (typeof CHECK_VERDICTS)[number];

/** What one check measured now: its verdict and the numbers, names and times behind it. */
export interface CheckOutcome {
  verdict: CheckVerdict;
  evidence: Record<string, unknown>;
  /** Replaces the check's standing remedy when the outcome calls for a more specific one. */
  remedy?: string;
}

/** One production-readiness check, contributed by the library or feature that owns what it measures. */
export interface ProductionCheck {
  /** Stable snake_case id (clients key on it). */
  id: string;
  /** What a pass means, in one sentence. */
  title: string;
  /** What to do when it does not pass. */
  remedy: string;
  run(): Promise<CheckOutcome>;
}

/**
 * The checks of the production-readiness report (`GET /api/ops/readiness`, `task readiness`).
 * Each owner registers its checks once at module init; the report runs them all, so a new
 * feature adds what must hold for it without the report knowing its internals.
 */
@Injectable()
export class ProductionCheckRegistry {
  private readonly checks = new Map<string, ProductionCheck>();

  register(check: ProductionCheck): void {
    if (this.checks.has(check.id)) throw new Error(`production check ${check.id} is registered twice`);
    this.checks.set(check.id, check);
  }

  all(): ProductionCheck[] {
    return [...this.checks.values()];
  }
}
