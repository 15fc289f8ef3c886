import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../../libs/config';
import { EventPublisher } from '../../../libs/events';
import { QueueService } from '../../../libs/queue';
import type { Incident } from '../entities/incident.entity';
import { OPS_ALERT_QUEUE } from './ops-alert.job';
import type { OpsAlertJob } from './ops-alert.job';

export type IncidentEventType = 'incident.opened' | 'incident.updated' | 'incident.resolved';

/**
 * Who hears of an incident. Tenants: an `incident.*` domain event per affected org, written
 * in the caller's transaction (the outbox), carrying only what a customer may read — the
 * org's webhook endpoints subscribed to it receive it. Operators: one job per channel of
 * OPS_ALERT_WEBHOOK_URLS, sent with the webhook retry schedule and breaker. A flapping
 * incident stops notifying; an incident about the alert channels themselves never alerts
 * them (a failing channel raises its signal, not a loop of incidents).
 */
@Injectable()
export class IncidentAlerts {
  private readonly logger = new Logger('IncidentAlerts');

  constructor(
    private readonly events: EventPublisher,
    private readonly queue: QueueService,
    private readonly config: AppConfig,
  ) {}

  /** The outbox events for the orgs in `orgIds` (all affected orgs when omitted). */
  async tenants(m: EntityManager, incident: Incident, type: IncidentEventType, orgIds?: string[]): Promise<number> {
    if (incident.flapping && type === 'incident.updated') return 0;
    const rows = (await m.query(
      `SELECT org_id, title, severity, status, features, started_at, resolved_at FROM incident_impacts
       WHERE incident_id = $1 AND ($2::uuid[] IS NULL OR org_id = ANY($2::uuid[]))`,
      [incident.id, orgIds ?? null],
    )) as {
      org_id: string;
      title: string;
      severity: string;
      status: string;
      features: string[];
      started_at: Date;
      resolved_at: Date | null;
    }[];
    return this.events.publishMany(
      m,
      type,
      rows.map((r) => ({
        orgId: r.org_id,
        data: {
          incident_id: incident.id,
          title: r.title,
          severity: r.severity,
          status: r.status,
          features: r.features,
          started_at: r.started_at.toISOString(),
          resolved_at: r.resolved_at?.toISOString() ?? null,
        },
      })),
    );
  }

  /** Queues the operator alert to every channel (after the incident's transaction committed). */
  async operators(incident: Incident, type: IncidentEventType, message: string): Promise<number> {
    const urls = this.config.get('OPS_ALERT_WEBHOOK_URLS');
    if (!urls.length || incident.signal === 'ops_alert_failures') return 0;
    if (incident.flapping && type !== 'incident.resolved') return 0;
    const eventId = crypto.randomUUID();
    let queued = 0;
    for (let channel = 0; channel < urls.length; channel++) {
      const job: OpsAlertJob = {
        event_id: eventId,
        type,
        channel,
        attempt: 1,
        created_at: new Date().toISOString(),
        incident: {
          id: incident.id,
          title: incident.title,
          severity: incident.severity,
          category: incident.category,
          status: incident.status,
          signal: incident.signal,
          value: incident.lastValue,
          orgs_affected: incident.orgsAffected,
          message,
        },
      };
      try {
        await this.queue.send(OPS_ALERT_QUEUE, job);
        queued++;
      } catch (err) {
        this.logger.warn({ incident_id: incident.id, channel }, `operator alert not queued: ${(err as Error).message}`);
      }
    }
    return queued;
  }
}
