import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { newestFirstPage, ProblemException } from '../../libs/http';
import { IncidentActions } from './actions.service';
import type {
  ImpactDto,
  IncidentActionDto,
  IncidentListQueryDto,
  IncidentPageDto,
  RecommendationDto,
  RecommendationsDto,
} from './dto/incident.dto';
import { IncidentAction } from './entities/incident-action.entity';
import { Incident } from './entities/incident.entity';
import { IncidentLifecycle } from './incident-lifecycle.service';
import { isOpen } from './incident-transitions';
import { toActionDto, toIncidentDto } from './incident-views';
import { SIGNALS } from './signals/catalog';
import type { SignalName } from './signals/catalog';
import { IncidentRules } from './signals/incident-rules';
import type { ActionName } from './signals/rules';

const ACTION_TEXT: Record<ActionName, string> = {
  'payroll.pause_dispatch':
    'Pause payroll dispatch: queued runs wait, running runs stop at their next checkpoint (reverted when the incident ends).',
  'payroll.limit_concurrency': 'At most 1 payroll run at a time cluster-wide (reverted when the incident ends).',
  'sessions.sweep_now': 'Run the session sweeper now: stale sessions end, stranded calls are offered again.',
  'webhooks.defer_endpoint': "Open the failing endpoint's breaker for a while: deliveries wait instead of failing.",
};

/** Reads for operators: incident lists, impact, recommendations; the actions they take. */
@Injectable()
export class OpsIncidentsService {
  constructor(
    private readonly db: DatabaseService,
    private readonly lifecycle: IncidentLifecycle,
    private readonly actions: IncidentActions,
    private readonly rules: IncidentRules,
  ) {}

  async list(query: IncidentListQueryDto): Promise<IncidentPageDto> {
    const qb = this.db.system.getRepository(Incident).createQueryBuilder('i');
    if (query.status) qb.andWhere('i.status = :status', { status: query.status });
    if (query.severity) qb.andWhere('i.severity = :severity', { severity: query.severity });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit: query.limit ?? 50, cursor: query.cursor });
    return { items: rows.map(toIncidentDto), next_cursor };
  }

  async impact(id: string): Promise<ImpactDto> {
    const incident = await this.lifecycle.find(id);
    const rows = (await this.db.system.query(
      `SELECT p.org_id, o.name AS org_name, p.features, p.counts, p.first_seen_at, p.last_seen_at
       FROM incident_impacts p JOIN orgs o ON o.id = p.org_id WHERE p.incident_id = $1 ORDER BY o.name, p.org_id`,
      [id],
    )) as {
      org_id: string;
      org_name: string;
      features: string[];
      counts: Record<string, number>;
      first_seen_at: Date;
      last_seen_at: Date;
    }[];
    return {
      orgs_affected: incident.orgsAffected,
      orgs: rows.map((r) => ({
        ...r,
        first_seen_at: r.first_seen_at.toISOString(),
        last_seen_at: r.last_seen_at.toISOString(),
      })),
    };
  }

  async actionsOf(id: string): Promise<IncidentActionDto[]> {
    const rows = await this.db.system.getRepository(IncidentAction).find({
      where: { incidentId: id },
      order: { appliedAt: 'ASC' },
    });
    return rows.map(toActionDto);
  }

  /** The rule's safe actions (applied or not) and the operator steps it recommends. */
  async recommendations(id: string): Promise<RecommendationsDto> {
    const incident = await this.lifecycle.find(id);
    const actions = await this.actionsOf(id);
    const items: RecommendationDto[] = [];
    const rule = incident.signal && incident.signal in SIGNALS ? this.rules.of(incident.signal as SignalName) : null;
    const live = (name: string) => actions.some((a) => a.action === name && a.status === 'applied');
    for (const action of rule?.auto_actions ?? []) {
      items.push({ action, description: ACTION_TEXT[action], safe: true, params: null, applied: live(action) });
    }
    for (const text of rule?.recommendations ?? []) {
      items.push({ action: 'manual', description: text, safe: false, params: null, applied: false });
    }
    if (isOpen(incident.status) && !items.some((i) => i.action === 'payroll.pause_dispatch')) {
      const capacity = incident.category === 'capacity';
      if (capacity) {
        items.push({
          action: 'payroll.pause_dispatch',
          description: ACTION_TEXT['payroll.pause_dispatch'],
          safe: true,
          params: null,
          applied: live('payroll.pause_dispatch'),
        });
      }
    }
    return { items, actions };
  }

  /** An operator applies a catalog action (validated); it is reverted when the incident ends. */
  async act(id: string, action: string, params: Record<string, unknown>, actor: string): Promise<IncidentActionDto> {
    const incident = await this.lifecycle.find(id);
    if (!isOpen(incident.status)) {
      throw new ProblemException(409, `Actions apply to open incidents; this one is ${incident.status}.`, {
        status_now: incident.status,
      });
    }
    const applied = await this.actions.applyManual(incident, action, params, actor);
    await this.lifecycle.audited(incident, 'incident.action_applied', { action, params }, actor);
    const row = await this.db.system.getRepository(IncidentAction).findOneByOrFail({ id: applied.id });
    return toActionDto(row);
  }
}
