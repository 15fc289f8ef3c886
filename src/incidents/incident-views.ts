import type { CustomerIncidentDto, IncidentActionDto, IncidentDto } from './dto/incident.dto';
import type { IncidentAction } from './entities/incident-action.entity';
import type { IncidentImpact } from './entities/incident-impact.entity';
import type { Incident } from './entities/incident.entity';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** An incident as operators read it. */
export function toIncidentDto(i: Incident): IncidentDto {
  return {
    id: i.id,
    source: i.source,
    dedup_key: i.dedupKey,
    title: i.title,
    summary: i.summary,
    severity: i.severity,
    category: i.category,
    status: i.status,
    level: i.level,
    signal: i.signal,
    scope: i.scope,
    resource: i.resource,
    flapping: i.flapping,
    orgs_affected: i.orgsAffected,
    first_value: i.firstValue,
    worst_value: i.worstValue,
    last_value: i.lastValue,
    opened_at: i.openedAt.toISOString(),
    acknowledged_at: iso(i.acknowledgedAt),
    mitigated_at: iso(i.mitigatedAt),
    resolved_at: iso(i.resolvedAt),
    closed_at: iso(i.closedAt),
    cancelled_at: iso(i.cancelledAt),
    lessons: i.lessons,
    created_by: i.createdBy,
  };
}

/** What a tenant may read of an incident: its own impact row, never internals or other orgs. */
export function toCustomerDto(r: IncidentImpact): CustomerIncidentDto {
  return {
    id: r.incidentId,
    title: r.title,
    severity: r.severity,
    status: r.status,
    affected_features: r.features,
    started_at: r.startedAt.toISOString(),
    resolved_at: iso(r.resolvedAt),
    updates: r.updates.map((u) => ({ at: String(u.at), status: u.status, message: u.message })),
  };
}

export function toActionDto(a: IncidentAction): IncidentActionDto {
  return {
    id: a.id,
    action: a.action,
    params: a.params,
    automatic: a.automatic,
    status: a.status,
    applied_at: a.appliedAt.toISOString(),
    expires_at: a.expiresAt.toISOString(),
    reverted_at: iso(a.revertedAt),
    actor: a.actor,
  };
}
