import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatabaseService } from '../../libs/database';
import { PayrollSignals } from '../payroll/payroll.module';
import { SessionSignals } from '../sessions/sessions.module';
import { WebhookSignals } from '../webhooks/webhooks.module';
import { customerTitle, featuresOf } from './customer-view';
import type { Incident } from './entities/incident.entity';
import { isOpen } from './incident-transitions';

/** One org's share of an incident: which features, and how much of each. */
export interface OrgImpact {
  orgId: string;
  features: string[];
  counts: Record<string, number>;
}

/**
 * Which orgs an incident affects and how, computed from the data when it opens and refreshed
 * while it is open. An org's own condition (its webhooks failing, its calls waiting) affects
 * that org; a platform condition (workers down, the database slow) affects every org with work
 * it holds up: runs waiting, calls waiting, deliveries failing. Written as impact rows, the
 * one view of an incident a tenant has (RLS on org_id).
 */
@Injectable()
export class ImpactService {
  constructor(
    private readonly db: DatabaseService,
    private readonly payroll: PayrollSignals,
    private readonly webhooks: WebhookSignals,
    private readonly sessions: SessionSignals,
  ) {}

  async compute(incident: Incident): Promise<OrgImpact[]> {
    if (incident.scope === 'org' && incident.resource) {
      return [
        {
          orgId: incident.resource,
          features: featuresOf(incident),
          counts: { [incident.signal ?? 'value']: incident.lastValue ?? 0 },
        },
      ];
    }
    if (incident.source === 'manual') return [];
    const byOrg = new Map<string, OrgImpact>();
    const add = (feature: string, count: string, values: { orgId: string; value: number }[]) => {
      for (const v of values) {
        if (!(v.value > 0)) continue;
        const impact = byOrg.get(v.orgId) ?? { orgId: v.orgId, features: [], counts: {} };
        if (!impact.features.includes(feature)) impact.features.push(feature);
        impact.counts[count] = v.value;
        byOrg.set(v.orgId, impact);
      }
    };
    const features = featuresOf(incident);
    const [waiting, calls, failing] = await Promise.all([
      features.includes('payroll') ? this.payroll.waitingRuns() : [],
      features.includes('calls') ? this.sessions.callsWaitingWithoutAgents() : [],
      features.includes('webhooks') ? this.webhooks.failureRatio() : [],
    ]);
    add('payroll', 'payroll_runs_waiting', waiting);
    add('calls', 'calls_waiting', calls);
    add('webhooks', 'webhook_failure_ratio', failing);
    return [...byOrg.values()];
  }

  /**
   * Writes the impact rows (new orgs added, known ones refreshed): how many orgs the incident
   * affects now, and which orgs were added (they are told the incident opened).
   */
  async refresh(m: EntityManager, incident: Incident): Promise<{ orgs: number; added: string[] }> {
    const impacts = await this.compute(incident);
    let added: string[] = [];
    if (impacts.length) {
      const rows = (await m.query(
        `INSERT INTO incident_impacts (org_id, incident_id, title, severity, status, features, counts, started_at, updates)
         SELECT x.org_id, $1, $2, $3, $4, x.features, x.counts, $5,
                jsonb_build_array(jsonb_build_object('at', now(), 'status', $4::text, 'message', $2::text))
         FROM jsonb_to_recordset($6::jsonb) AS x(org_id uuid, features text[], counts jsonb)
         ON CONFLICT (incident_id, org_id) DO UPDATE SET features = EXCLUDED.features, counts = EXCLUDED.counts,
           last_seen_at = now()
         RETURNING org_id, (xmax = 0) AS inserted`,
        [
          incident.id,
          customerTitle(incident),
          incident.severity,
          incident.status,
          incident.openedAt,
          JSON.stringify(impacts.map((i) => ({ org_id: i.orgId, features: i.features, counts: i.counts }))),
        ],
      )) as { org_id: string; inserted: boolean }[];
      added = rows.filter((r) => r.inserted).map((r) => r.org_id);
    }
    const [{ n }] = (await m.query(`SELECT count(*)::int AS n FROM incident_impacts WHERE incident_id = $1`, [
      incident.id,
    ])) as { n: number }[];
    return { orgs: n, added };
  }

  /** Orgs named by an operator who declares an incident (their features as declared). */
  async declare(m: EntityManager, incident: Incident, orgIds: string[], features: string[]): Promise<string[]> {
    if (!orgIds.length) return [];
    const rows = (await m.query(
      `INSERT INTO incident_impacts (org_id, incident_id, title, severity, status, features, started_at, updates)
       SELECT o.id, $1, $2, $3, $4, $5, $6,
              jsonb_build_array(jsonb_build_object('at', now(), 'status', $4::text, 'message', $2::text))
       FROM orgs o WHERE o.id = ANY($7::uuid[])
       ON CONFLICT (incident_id, org_id) DO NOTHING RETURNING org_id`,
      [incident.id, incident.title, incident.severity, incident.status, features, incident.openedAt, orgIds],
    )) as { org_id: string }[];
    return rows.map((r) => r.org_id);
  }

  /** Every affected org sees the incident's new status (and severity), with a dated update. */
  async announce(m: EntityManager, incident: Incident, message: string): Promise<void> {
    await m.query(
      `UPDATE incident_impacts SET status = $2, severity = $3,
         resolved_at = CASE WHEN $4 THEN resolved_at ELSE coalesce(resolved_at, now()) END,
         updates = updates || jsonb_build_array(jsonb_build_object('at', now(), 'status', $2::text, 'message', $5::text))
       WHERE incident_id = $1`,
      [incident.id, incident.status, incident.severity, isOpen(incident.status), message],
    );
  }

  /** The orgs an incident affects (for events to their webhooks). */
  async orgsOf(incidentId: string): Promise<string[]> {
    const rows = (await this.db.system.query(`SELECT org_id FROM incident_impacts WHERE incident_id = $1`, [
      incidentId,
    ])) as { org_id: string }[];
    return rows.map((r) => r.org_id);
  }
}
