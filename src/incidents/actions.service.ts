import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { ProblemException } from '../../libs/http';
import { PayrollDispatchControl } from '../payroll/payroll.module';
import { SessionSignals } from '../sessions/sessions.module';
import { WebhookSignals } from '../webhooks/webhooks.module';
import type { IncidentAction } from './entities/incident-action.entity';
import type { Incident } from './entities/incident.entity';
import { IncidentTimeline } from './incident-timeline';
import { ACTIONS } from './signals/rules';
import type { ActionName } from './signals/rules';

/** How long an action holds before it lapses, unless its incident is still open (then renewed). */
export const ACTION_TTL_MS = 30 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Params = Record<string, unknown>;

/**
 * The safe stabilization catalog. Every action is reversible and time-bounded (its effect
 * lapses by itself at its time, so a dead evaluator cannot leave it on), written to the
 * timeline (and so the postmortem), and reverted when its incident resolves or is cancelled.
 * Destructive measures (cancelling a run, disabling an endpoint, scaling out) are never here:
 * they are recommendations for an operator.
 */
@Injectable()
export class IncidentActions {
  private readonly logger = new Logger('IncidentActions');

  constructor(
    private readonly db: DatabaseService,
    private readonly payroll: PayrollDispatchControl,
    private readonly sessions: SessionSignals,
    private readonly webhooks: WebhookSignals,
    private readonly timeline: IncidentTimeline,
    private readonly config: AppConfig,
  ) {}

  /** The rule's automatic actions for an incident, each applied once. */
  async applyAutomatic(incident: Incident, actions: readonly ActionName[]): Promise<IncidentAction[]> {
    const applied: IncidentAction[] = [];
    for (const action of actions) {
      for (const params of await this.automaticParams(incident, action)) {
        const already = (await this.db.system.query(
          `SELECT 1 FROM incident_actions WHERE incident_id = $1 AND action = $2 AND params = $3::jsonb AND status = 'applied'`,
          [incident.id, action, JSON.stringify(params)],
        )) as unknown[];
        if (!already.length) applied.push(await this.apply(incident, action, params, true, 'system:incidents'));
      }
    }
    return applied;
  }

  /** An operator's action: validated, applied, on the timeline. */
  async applyManual(incident: Incident, action: string, params: Params, actor: string): Promise<IncidentAction> {
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new ProblemException(400, `Unknown action "${action}"; the catalog is ${ACTIONS.join(', ')}.`, {
        errors: [{ field: 'action', message: `must be one of ${ACTIONS.join(', ')}` }],
      });
    }
    return this.apply(incident, action as ActionName, this.checkParams(action as ActionName, params), false, actor);
  }

  /** Reverts every action still applied for the incident (it resolved or was cancelled). */
  async revertAll(incident: Incident, why: string): Promise<{ action: ActionName; params: Params; actor: string }[]> {
    const live = (await this.db.system.query(
      `SELECT id, action, params FROM incident_actions WHERE incident_id = $1 AND status = 'applied' ORDER BY applied_at`,
      [incident.id],
    )) as { id: string; action: ActionName; params: Params }[];
    for (const a of live) await this.revert(incident, a, 'reverted', why);
    return live.map((a) => ({ action: a.action, params: a.params, actor: 'system:incidents' }));
  }

  /** Open incidents keep their actions; an action whose incident is gone (or past its time) lapses. */
  async renewOrExpire(openIncidentIds: string[]): Promise<void> {
    const now = Date.now();
    const live = (await this.db.system.query(
      `SELECT a.id, a.incident_id, a.action, a.params, a.expires_at FROM incident_actions a WHERE a.status = 'applied'`,
    )) as { id: string; incident_id: string; action: ActionName; params: Params; expires_at: Date }[];
    for (const a of live) {
      if (openIncidentIds.includes(a.incident_id)) {
        if (a.expires_at.getTime() - now < ACTION_TTL_MS / 2)
          await this.effect(a.incident_id, a.action, a.params, 'apply');
        await this.db.system.query(`UPDATE incident_actions SET expires_at = $2 WHERE id = $1`, [
          a.id,
          new Date(now + ACTION_TTL_MS),
        ]);
      } else if (a.expires_at.getTime() <= now) {
        await this.revert({ id: a.incident_id } as Incident, a, 'expired', 'its time ran out');
      }
    }
  }

  private async apply(incident: Incident, action: ActionName, params: Params, automatic: boolean, actor: string) {
    const expiresAt = new Date(Date.now() + ACTION_TTL_MS);
    let outcome: Record<string, unknown>;
    try {
      outcome = await this.effect(incident.id, action, params, 'apply', expiresAt);
    } catch (err) {
      await this.timeline.add(incident.id, 'action_failed', actor, { action, params, error: (err as Error).message });
      throw err;
    }
    const [row] = (await this.db.system.query(
      `INSERT INTO incident_actions (incident_id, action, params, automatic, expires_at, outcome, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [incident.id, action, JSON.stringify(params), automatic, expiresAt, JSON.stringify(outcome), actor],
    )) as IncidentAction[];
    await this.timeline.add(incident.id, 'action_applied', actor, {
      action,
      params,
      automatic,
      outcome,
      action_id: row.id,
    });
    this.logger.log({ incident_id: incident.id, action, automatic }, `incident action applied: ${action}`);
    return row;
  }

  private async revert(
    incident: Pick<Incident, 'id'>,
    a: { id: string; action: ActionName; params: Params },
    to: 'reverted' | 'expired',
    why: string,
  ) {
    const outcome = await this.effect(incident.id, a.action, a.params, 'revert').catch((err: Error) => ({
      error: err.message,
    }));
    await this.db.system.query(
      `UPDATE incident_actions SET status = $2, reverted_at = now(), outcome = coalesce(outcome, '{}') || $3::jsonb
       WHERE id = $1 AND status = 'applied'`,
      [a.id, to, JSON.stringify({ reverted: outcome })],
    );
    await this.timeline.add(incident.id, 'action_reverted', 'system:incidents', {
      action: a.action,
      params: a.params,
      why,
      outcome,
    });
  }

  /** What an action does, and undoes; the reason names the incident so only it undoes its own. */
  private async effect(incidentId: string, action: ActionName, params: Params, how: 'apply' | 'revert', until?: Date) {
    const reason = `incident ${incidentId}`;
    const till = until ?? new Date(Date.now() + ACTION_TTL_MS);
    switch (action) {
      case 'payroll.pause_dispatch':
        return how === 'apply' ? this.payroll.pauseDispatch(reason, till) : this.payroll.resumeDispatch(reason);
      case 'payroll.limit_concurrency':
        if (how === 'apply') await this.payroll.limitConcurrency(Number(params.limit ?? 1), reason, till);
        else await this.payroll.clearConcurrencyLimit(reason);
        return { limit: Number(params.limit ?? 1) };
      case 'sessions.sweep_now':
        // A sweep has nothing to undo: what it fixed were stuck states.
        return how === 'apply' ? { ...(await this.sessions.sweepNow(params.org_id as string | undefined)) } : {};
      case 'webhooks.defer_endpoint': {
        const orgId = String(params.org_id);
        const endpointId = String(params.endpoint_id);
        if (how === 'revert') {
          await this.webhooks.undeferEndpoint(orgId, endpointId);
          return {};
        }
        const cooldown = this.config.get('WEBHOOK_BREAKER_COOLDOWN_SECONDS');
        return {
          deferred: await this.webhooks.deferEndpoint(orgId, endpointId, till, cooldown),
          until: till.toISOString(),
        };
      }
    }
  }

  private async automaticParams(incident: Incident, action: ActionName): Promise<Params[]> {
    if (action === 'webhooks.defer_endpoint') {
      if (incident.scope !== 'org' || !incident.resource) return [];
      const failing = await this.webhooks.failingEndpoints(incident.resource);
      return failing.map((e) => ({ org_id: incident.resource, endpoint_id: e.id }));
    }
    if (action === 'sessions.sweep_now')
      return [incident.scope === 'org' && incident.resource ? { org_id: incident.resource } : {}];
    if (action === 'payroll.limit_concurrency') return [{ limit: 1 }];
    return [{}];
  }

  private checkParams(action: ActionName, params: Params): Params {
    const bad = (field: string, message: string) =>
      new ProblemException(400, `The request is invalid: params.${field}.`, {
        errors: [{ field: `params.${field}`, message }],
      });
    const uuid = (field: string) => {
      if (typeof params[field] !== 'string' || !UUID.test(params[field] as string)) throw bad(field, 'must be a UUID');
    };
    const known: Record<ActionName, string[]> = {
      'payroll.pause_dispatch': [],
      'payroll.limit_concurrency': ['limit'],
      'sessions.sweep_now': ['org_id'],
      'webhooks.defer_endpoint': ['org_id', 'endpoint_id'],
    };
    for (const key of Object.keys(params))
      if (!known[action].includes(key)) throw bad(key, 'is not a parameter of this action');
    if (action === 'payroll.limit_concurrency' && params.limit !== undefined) {
      if (!Number.isInteger(params.limit) || (params.limit as number) < 1 || (params.limit as number) > 100) {
        throw bad('limit', 'must be an integer from 1 to 100');
      }
    }
    if (action === 'sessions.sweep_now' && params.org_id !== undefined) uuid('org_id');
    if (action === 'webhooks.defer_endpoint') {
      uuid('org_id');
      uuid('endpoint_id');
    }
    return params;
  }
}
