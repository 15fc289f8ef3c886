import { Injectable, OnModuleInit } from '@nestjs/common';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { DatabaseService } from '../../libs/database';

/** An enabled endpoint failing for longer than this needs its owner's attention. */
const FAILING_WARN_HOURS = 1;
const LISTED = 10;

/**
 * Webhooks in the readiness report: breakers of enabled endpoints closed, and endpoints
 * healthy (not failing for long, none disabled automatically or given up on lately). Counted
 * across orgs through the system connection; an endpoint's receiver is its owner's, so these
 * warn rather than fail.
 */
@Injectable()
export class WebhooksProductionChecks implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly db: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'breakers_closed',
      title: "Every enabled webhook endpoint's circuit breaker is closed.",
      remedy:
        "An open breaker means the receiver keeps failing: see GET /api/webhooks/endpoints/{id}/health as the endpoint's org; deliveries wait and are sent when it recovers.",
      run: () => this.breakers(),
    });
    this.registry.register({
      id: 'webhook_endpoints_healthy',
      title: `No enabled endpoint failing for over ${FAILING_WARN_HOURS} h, none disabled automatically and no delivery given up on in the last 24 h.`,
      remedy:
        'Ask the orgs concerned to fix or remove their receivers; replay given-up deliveries with POST /api/webhooks/deliveries/{id}/replay once they work.',
      run: () => this.endpoints(),
    });
  }

  private async breakers(): Promise<CheckOutcome> {
    const rows = (await this.db.system.query(
      `SELECT id, org_id, breaker_state, breaker_opened_at FROM webhook_endpoints
       WHERE enabled AND deleted_at IS NULL AND breaker_state <> 'closed'
       ORDER BY breaker_opened_at NULLS LAST, id`,
    )) as { id: string; org_id: string; breaker_state: string; breaker_opened_at: Date | null }[];
    const [{ n }] = (await this.db.system.query(
      `SELECT count(*)::int AS n FROM webhook_endpoints WHERE enabled AND deleted_at IS NULL`,
    )) as { n: number }[];
    return {
      verdict: rows.length ? 'warn' : 'pass',
      evidence: {
        enabled_endpoints: n,
        open: rows.filter((r) => r.breaker_state === 'open').length,
        half_open: rows.filter((r) => r.breaker_state === 'half_open').length,
        endpoints: rows.slice(0, LISTED).map((r) => ({
          endpoint_id: r.id,
          org_id: r.org_id,
          state: r.breaker_state,
          opened_at: r.breaker_opened_at,
        })),
      },
    };
  }

  private async endpoints(): Promise<CheckOutcome> {
    const [row] = (await this.db.system.query(
      `SELECT
         (SELECT count(*)::int FROM webhook_endpoints WHERE enabled AND deleted_at IS NULL
            AND failing_since < now() - make_interval(hours => $1)) AS failing_long,
         (SELECT min(failing_since) FROM webhook_endpoints WHERE enabled AND deleted_at IS NULL) AS failing_since_oldest,
         (SELECT count(*)::int FROM webhook_endpoints WHERE NOT enabled AND deleted_at IS NULL
            AND disabled_reason IS DISTINCT FROM 'manual' AND disabled_at > now() - interval '24 hours') AS auto_disabled_24h,
         (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'failed'
            AND updated_at > now() - interval '24 hours') AS given_up_24h`,
      [FAILING_WARN_HOURS],
    )) as {
      failing_long: number;
      failing_since_oldest: Date | null;
      auto_disabled_24h: number;
      given_up_24h: number;
    }[];
    const bad = row.failing_long + row.auto_disabled_24h + row.given_up_24h;
    return { verdict: bad ? 'warn' : 'pass', evidence: row };
  }
}
