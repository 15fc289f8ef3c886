import { Injectable, Logger } from '@nestjs/common';
import { In } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { DatabaseService } from '../../libs/database';
import { ProblemException } from '../../libs/http';
import { IncidentActions } from './actions.service';
import { IncidentAlerts } from './alerts/incident-alerts';
import type { IncidentEventType } from './alerts/incident-alerts';
import { Incident, OPEN_STATUSES } from './entities/incident.entity';
import type { IncidentStatus } from './entities/incident.entity';
import { ImpactService } from './impact.service';
import { IncidentTimeline } from './incident-timeline';
import { isOpen, nextStatus } from './incident-transitions';
import type { TransitionName } from './incident-transitions';
import { dedupKey, SIGNALS } from './signals/catalog';
import type { Reading } from './signals/catalog';
import { IncidentRules } from './signals/incident-rules';
import { severityOf } from './signals/rules';
import type { Category, Level, Rule, Severity } from './signals/rules';

type Firing = Exclude<Level, 'ok'>;

/** What an operator declares by hand. */
export interface Declaration {
  title: string;
  summary?: string;
  severity: Severity;
  category: Category;
  /** Orgs the operator knows are affected (they see the incident), and how. */
  org_ids?: string[];
  features?: string[];
}

/** When each transition stamps its time. */
const STAMP: Partial<Record<IncidentStatus, keyof Incident>> = {
  active: 'acknowledgedAt',
  mitigated: 'mitigatedAt',
  resolved: 'resolvedAt',
  closed: 'closedAt',
  cancelled: 'cancelledAt',
};

const ALERT_OF: Partial<Record<IncidentStatus, IncidentEventType>> = {
  resolved: 'incident.resolved',
  cancelled: 'incident.resolved',
};

function describe(rule: Rule, level: Firing, value: number | null, resource: string): string {
  const spec = SIGNALS[rule.signal];
  const threshold = rule[level];
  const where = resource ? ` (${spec.scope} ${resource})` : '';
  const shown = value === null ? 'unknown' : Number(value.toFixed(4));
  return `${rule.signal} ${level}: ${shown} ${spec.unit}, threshold ${threshold}${where}`;
}

/**
 * Every change of an incident's life, each in one transaction with its timeline entries, its
 * customer impact rows and the tenants' outbox events; operator alerts and the safe actions
 * follow once it committed. Opened, escalated and resolved by the detector; acknowledged,
 * mitigated, resolved, closed or cancelled by operators (validated transitions, 409
 * otherwise); declared by hand.
 */
@Injectable()
export class IncidentLifecycle {
  private readonly logger = new Logger('Incidents');

  constructor(
    private readonly db: DatabaseService,
    private readonly timeline: IncidentTimeline,
    private readonly impact: ImpactService,
    private readonly actions: IncidentActions,
    private readonly alerts: IncidentAlerts,
    private readonly rules: IncidentRules,
    private readonly audit: AuditService,
  ) {}

  async find(id: string): Promise<Incident> {
    const incident = await this.db.system.manager.findOneBy(Incident, { id });
    if (!incident) throw new ProblemException(404, 'No such incident.');
    return incident;
  }

  /** A rule fired: its one open incident (a concurrent evaluator's, if it won the race). */
  async open(reading: Reading, level: Firing, conditionSince: Date | null): Promise<Incident> {
    const rule = this.rules.of(reading.signal);
    const title = describe(rule, level, reading.value, reading.resource);
    const incident = await this.db.system.transaction(async (m) => {
      const [row] = (await m.query(
        `INSERT INTO incidents (dedup_key, source, signal, scope, resource, title, severity, category, level,
                                first_value, worst_value, last_value)
         VALUES ($1, 'rule', $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)
         ON CONFLICT (dedup_key) WHERE status IN ('triage', 'active', 'mitigated') DO NOTHING RETURNING id`,
        [
          dedupKey(reading),
          reading.signal,
          reading.scope,
          reading.resource,
          title,
          severityOf(rule, level, 0),
          rule.category,
          level,
          reading.value,
        ],
      )) as { id: string }[];
      if (!row) return null;
      const created = await m.findOneByOrFail(Incident, { id: row.id });
      await this.timeline.add(
        created.id,
        'detected',
        'system:incidents',
        {
          signal: reading.signal,
          scope: reading.scope,
          resource: reading.resource,
          value: reading.value,
          level,
          threshold: rule[level],
          for_seconds: rule.for_seconds,
          condition_since: (conditionSince ?? reading.measuredAt).toISOString(),
        },
        m,
      );
      await this.snapshot(m, created, 'open', reading.value);
      const { orgs } = await this.impact.refresh(m, created);
      created.orgsAffected = orgs;
      created.severity = severityOf(rule, level, orgs);
      await m.update(Incident, { id: created.id }, { orgsAffected: orgs, severity: created.severity });
      if (orgs) await this.timeline.add(created.id, 'impact', 'system:incidents', { orgs_affected: orgs }, m);
      await this.alerts.tenants(m, created, 'incident.opened');
      return created;
    });
    if (!incident) {
      return this.db.system.manager.findOneByOrFail(Incident, {
        dedupKey: dedupKey(reading),
        status: In(OPEN_STATUSES),
      });
    }
    this.logger.warn(
      { incident_id: incident.id, severity: incident.severity, orgs_affected: incident.orgsAffected },
      `incident opened: ${title}`,
    );
    await this.alerts.operators(incident, 'incident.opened', title);
    if (level === 'critical') await this.applyAutomatic(incident, rule);
    return incident;
  }

  /** The condition worsened (warning → critical): severity up, the rule's actions applied. */
  async escalate(id: string, reading: Reading, level: Firing): Promise<Incident> {
    const rule = this.rules.of(reading.signal);
    const incident = await this.db.system.transaction(async (m) => {
      const current = await m.findOneByOrFail(Incident, { id });
      const severity = severityOf(rule, level, current.orgsAffected);
      const worse = SEVERITY_RANK[severity] < SEVERITY_RANK[current.severity] ? severity : current.severity;
      await m.update(Incident, { id }, { level, severity: worse, worstValue: reading.value, lastValue: reading.value });
      const after = await m.findOneByOrFail(Incident, { id });
      await this.timeline.add(
        id,
        'escalated',
        'system:incidents',
        { from: current.level, to: level, severity: worse, value: reading.value, threshold: rule[level] },
        m,
      );
      await this.snapshot(m, after, 'worst', reading.value);
      await this.impact.announce(m, after, `Severity ${worse}`);
      await this.alerts.tenants(m, after, 'incident.updated');
      return after;
    });
    await this.alerts.operators(incident, 'incident.updated', describe(rule, level, reading.value, reading.resource));
    if (level === 'critical') await this.applyAutomatic(incident, rule);
    return incident;
  }

  /** The condition has been clear for keep_firing_for_seconds: resolved, actions reverted. */
  async resolveByRule(id: string, value: number | null): Promise<Incident | null> {
    const incident = await this.db.system.transaction(async (m) => {
      const current = await this.locked(m, id);
      if (!isOpen(current.status)) return null;
      return this.move(m, current, 'resolved', 'system:incidents', { by: 'rule', value });
    });
    if (incident) await this.after(incident, 'the condition cleared');
    return incident;
  }

  async setFlapping(id: string, flapping: boolean): Promise<void> {
    await this.db.system.transaction(async (m) => {
      await m.update(Incident, { id }, { flapping });
      await this.timeline.add(id, 'flapping', 'system:incidents', { flapping }, m);
    });
    this.logger.warn({ incident_id: id }, flapping ? 'incident is flapping: notifications stop' : 'incident settled');
  }

  /** The latest reading of an open incident (worst value kept), and its impact refreshed. */
  async refresh(id: string, value: number | null): Promise<void> {
    await this.db.system.transaction(async (m) => {
      const current = await m.findOneByOrFail(Incident, { id });
      if (!isOpen(current.status) || current.source !== 'rule') return;
      const worst = this.worse(current, value);
      const { orgs, added } = await this.impact.refresh(m, current);
      const rule = current.signal ? this.rules.of(current.signal as Rule['signal']) : null;
      const severity = rule && current.level ? severityOf(rule, current.level, orgs) : (current.severity as Severity);
      const raised = SEVERITY_RANK[severity] < SEVERITY_RANK[current.severity] ? severity : current.severity;
      await m.update(Incident, { id }, { lastValue: value, worstValue: worst, orgsAffected: orgs, severity: raised });
      if (worst !== current.worstValue) await this.snapshot(m, current, 'worst', worst);
      if (added.length) {
        await this.timeline.add(id, 'impact', 'system:incidents', { orgs_affected: orgs, added: added.length }, m);
        await this.alerts.tenants(m, { ...current, severity: raised }, 'incident.opened', added);
      }
      if (raised !== current.severity) {
        await this.timeline.add(id, 'escalated', 'system:incidents', { severity: raised, orgs_affected: orgs }, m);
        await this.impact.announce(m, { ...current, severity: raised }, `Severity ${raised}`);
      }
    });
  }

  /** An operator's transition; 409 problem+json when the incident's status does not allow it. */
  async transition(id: string, name: TransitionName, actor: string, note?: string): Promise<Incident> {
    const incident = await this.db.system.transaction(async (m) => {
      const current = await this.locked(m, id);
      const to = nextStatus(name, current.status);
      if (!to) {
        throw new ProblemException(409, `An incident that is ${current.status} cannot be ${PAST[name]}.`, {
          status_now: current.status,
        });
      }
      const moved = await this.move(m, current, to, actor, note ? { note } : {});
      if (name === 'close' && note) await m.update(Incident, { id }, { lessons: note });
      return moved;
    });
    await this.after(incident, `${PAST[name]} by an operator`);
    return incident;
  }

  async declare(d: Declaration, actor: string): Promise<Incident> {
    const incident = await this.db.system.transaction(async (m) => {
      const [row] = (await m.query(
        `INSERT INTO incidents (dedup_key, source, title, summary, severity, category, created_by)
         VALUES ('manual:' || gen_random_uuid(), 'manual', $1, $2, $3, $4, $5) RETURNING id`,
        [d.title, d.summary ?? null, d.severity, d.category, actor],
      )) as { id: string }[];
      const created = await m.findOneByOrFail(Incident, { id: row.id });
      await this.timeline.add(created.id, 'declared', actor, { title: d.title, severity: d.severity }, m);
      const added = await this.impact.declare(m, created, d.org_ids ?? [], d.features ?? []);
      if (added.length) {
        await m.update(Incident, { id: created.id }, { orgsAffected: added.length });
        created.orgsAffected = added.length;
        await this.alerts.tenants(m, created, 'incident.opened');
      }
      return created;
    });
    await this.alerts.operators(incident, 'incident.opened', incident.title);
    return incident;
  }

  async note(id: string, text: string, actor: string): Promise<void> {
    await this.find(id);
    await this.timeline.add(id, 'note', actor, { text });
  }

  /** Safe actions applied to an incident, recorded in the audit log of every org it affects. */
  async audited(incident: Incident, what: string, data: Record<string, unknown>, actor: string): Promise<void> {
    const orgs = await this.impact.orgsOf(incident.id);
    const [kind, ...rest] = actor.split(':');
    const actorType = (['user', 'api_key', 'platform_key'] as const).find((t) => t === kind) ?? 'system';
    await this.db.system.transaction(async (m) => {
      for (const org of orgs) {
        await this.audit.record(
          {
            action: what,
            actorType,
            actorId: actorType === 'system' ? actor : rest.join(':'),
            targetType: 'incident',
            targetId: incident.id,
            data,
          },
          m,
          org,
        );
      }
    });
  }

  private async applyAutomatic(incident: Incident, rule: Rule): Promise<void> {
    try {
      const applied = await this.actions.applyAutomatic(incident, rule.auto_actions);
      for (const a of applied) {
        await this.audited(incident, 'incident.action_applied', { action: a.action, params: a.params }, a.actor);
      }
    } catch (err) {
      this.logger.error({ incident_id: incident.id }, `automatic action failed: ${(err as Error).message}`);
    }
  }

  /** The status change itself, with its stamp, timeline entry, snapshot and customer update. */
  private async move(
    m: EntityManager,
    current: Incident,
    to: IncidentStatus,
    actor: string,
    data: Record<string, unknown>,
  ): Promise<Incident> {
    const stamp = STAMP[to];
    await m.update(Incident, { id: current.id }, { status: to, ...(stamp ? { [stamp]: new Date() } : {}) });
    const after = await m.findOneByOrFail(Incident, { id: current.id });
    await this.timeline.add(current.id, 'state_changed', actor, { from: current.status, to, ...data }, m);
    if (to === 'resolved') await this.snapshot(m, after, 'resolve', after.lastValue);
    await this.impact.announce(m, after, CUSTOMER_MESSAGE[to]);
    await this.alerts.tenants(m, after, ALERT_OF[to] ?? 'incident.updated');
    return after;
  }

  /** After a committed change: actions reverted when it ended, operators told. */
  private async after(incident: Incident, why: string): Promise<void> {
    if (incident.status === 'resolved' || incident.status === 'cancelled') {
      const reverted = await this.actions.revertAll(incident, `incident ${incident.status}`);
      for (const a of reverted) {
        await this.audited(incident, 'incident.action_reverted', { action: a.action, params: a.params }, a.actor);
      }
    }
    if (incident.status !== 'closed') {
      await this.alerts.operators(
        incident,
        ALERT_OF[incident.status] ?? 'incident.updated',
        `${incident.title}: ${why}`,
      );
    }
    this.logger.log({ incident_id: incident.id, status: incident.status }, `incident ${incident.status}: ${why}`);
  }

  private async locked(m: EntityManager, id: string): Promise<Incident> {
    const current = await m
      .createQueryBuilder(Incident, 'i')
      .setLock('pessimistic_write')
      .where('i.id = :id', { id })
      .getOne();
    if (!current) throw new ProblemException(404, 'No such incident.');
    return current;
  }

  private worse(current: Incident, value: number | null): number | null {
    if (value === null) return current.worstValue;
    if (current.worstValue === null || !current.signal) return value;
    const higher = SIGNALS[current.signal as Rule['signal']]?.worse !== 'lower';
    return higher ? Math.max(current.worstValue, value) : Math.min(current.worstValue, value);
  }

  private async snapshot(m: EntityManager, incident: Incident, at: 'open' | 'worst' | 'resolve', value: number | null) {
    await this.timeline.add(
      incident.id,
      'metric_snapshot',
      'system:incidents',
      { at, signal: incident.signal, value },
      m,
    );
  }
}

const SEVERITY_RANK: Record<Severity, number> = { SEV1: 1, SEV2: 2, SEV3: 3, SEV4: 4 };

const PAST: Record<TransitionName, string> = {
  ack: 'acknowledged',
  mitigate: 'mitigated',
  resolve: 'resolved',
  close: 'closed',
  cancel: 'cancelled',
};

const CUSTOMER_MESSAGE: Record<IncidentStatus, string> = {
  triage: 'We are looking into it.',
  active: 'We are working on it.',
  mitigated: 'A fix is in place; we are monitoring.',
  resolved: 'Resolved.',
  closed: 'Resolved.',
  cancelled: 'This was a false alarm: nothing was affected.',
};
