import { Injectable } from '@nestjs/common';
import { DatabaseService, returningRows, TenantContext } from '../../libs/database';

/** A value of a signal for one org. */
export interface OrgValue {
  orgId: string;
  value: number;
}

/**
 * Webhooks' health signals across orgs (system connection; counts only), and the one safe
 * stabilization action on an endpoint: deferring it (its breaker held open until a time), so a
 * failing receiver stops costing attempts while nothing is lost (deliveries wait, deferred).
 */
@Injectable()
export class WebhookSignals {
  constructor(
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
  ) {}

  /** Failed ÷ all delivery attempts of the last 15 minutes, per org with attempts. */
  async failureRatio(): Promise<OrgValue[]> {
    const rows = (await this.db.system.query(
      `SELECT org_id, (count(*) FILTER (WHERE status_code IS NULL OR status_code NOT BETWEEN 200 AND 299))::float8
                / count(*)::float8 AS value
       FROM webhook_delivery_log WHERE at > now() - interval '15 minutes' GROUP BY org_id`,
    )) as { org_id: string; value: number }[];
    return rows.map((r) => ({ orgId: r.org_id, value: Number(r.value) }));
  }

  /** Enabled endpoints whose breaker is open, per org. */
  async openBreakers(): Promise<OrgValue[]> {
    const rows = (await this.db.system.query(
      `SELECT org_id, count(*)::float8 AS value FROM webhook_endpoints
       WHERE enabled AND deleted_at IS NULL AND breaker_state = 'open' GROUP BY org_id`,
    )) as { org_id: string; value: number }[];
    return rows.map((r) => ({ orgId: r.org_id, value: Number(r.value) }));
  }

  /**
   * Health of the current org's endpoints (tenant transaction), one or all: breaker, failing
   * since, last success, the last day's attempts by status code and error class, and deliveries
   * waiting for a retry with the next one's time.
   */
  async endpointHealth(endpointId?: string): Promise<Record<string, unknown>[]> {
    return (await this.tenant.manager.query(
      `SELECT e.id, e.url, e.enabled, e.disabled_reason, e.breaker_state, e.breaker_failures, e.breaker_opened_at,
              e.failing_since, e.last_success_at,
              (SELECT coalesce(jsonb_object_agg(k, n), '{}') FROM (
                 SELECT coalesce(l.status_code::text, l.error_class, 'no response') AS k, count(*)::int AS n
                 FROM webhook_delivery_log l JOIN webhook_deliveries d ON d.id = l.delivery_id
                 WHERE d.endpoint_id = e.id AND l.at > now() - interval '24 hours' GROUP BY 1) x) AS attempts_24h,
              (SELECT count(*)::int FROM webhook_deliveries d
               WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'deferred') AND d.attempts > 0) AS waiting_retry,
              (SELECT min(d.next_attempt_at) FROM webhook_deliveries d
               WHERE d.endpoint_id = e.id AND d.status IN ('pending', 'deferred')) AS next_attempt_at,
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS gave_up
       FROM webhook_endpoints e
       WHERE e.deleted_at IS NULL AND ($1::uuid IS NULL OR e.id = $1::uuid)
       ORDER BY e.failing_since NULLS LAST, e.created_at, e.id LIMIT 50`,
      [endpointId ?? null],
    )) as Record<string, unknown>[];
  }

  /** Endpoints of an org whose deliveries have been failing, worst first. */
  async failingEndpoints(orgId: string): Promise<{ id: string; failing_since: Date }[]> {
    return this.tenant.run(
      orgId,
      async () =>
        (await this.tenant.manager.query(
          `SELECT id, failing_since FROM webhook_endpoints
         WHERE enabled AND deleted_at IS NULL AND failing_since IS NOT NULL ORDER BY failing_since`,
        )) as { id: string; failing_since: Date }[],
    );
  }

  /** Holds the endpoint's breaker open until `until` (its deliveries are deferred, not lost). */
  async deferEndpoint(orgId: string, endpointId: string, until: Date, cooldownSeconds: number): Promise<boolean> {
    return this.tenant.run(orgId, async () => {
      // An open breaker lets a probe through cooldown after it opened: open it so that falls at `until`.
      const rows = await returningRows<{ id: string }>(
        this.tenant.manager,
        `UPDATE webhook_endpoints SET breaker_state = 'open', breaker_probe_in_flight = false,
           breaker_opened_at = $2::timestamptz - make_interval(secs => $3), updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL RETURNING id`,
        [endpointId, until, cooldownSeconds],
      );
      return rows.length > 0;
    });
  }

  /** Ends a deferral: the breaker closes, the deferred deliveries go at their next time. */
  async undeferEndpoint(orgId: string, endpointId: string): Promise<void> {
    await this.tenant.run(orgId, () =>
      this.tenant.manager.query(
        `UPDATE webhook_endpoints SET breaker_state = 'closed', breaker_failures = 0, breaker_opened_at = NULL,
           breaker_probe_in_flight = false, updated_at = now() WHERE id = $1`,
        [endpointId],
      ),
    );
  }
}
