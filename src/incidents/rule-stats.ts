import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { SIGNALS } from './signals/catalog';
import { IncidentRules } from './signals/incident-rules';
import type { Rule } from './signals/rules';

export interface RuleStats {
  fired: number;
  flapped: number;
  median_seconds_to_resolve: number | null;
  fired_without_impact: number;
}

export interface RuleView extends Rule {
  unit: string;
  scope: string;
  description: string;
  stats: RuleStats;
  tuning: string[];
}

/** GET /api/ops/rules: the rules in force, what each has done, and how to tune the noisy ones. */
@Injectable()
export class RuleStatsService {
  constructor(
    private readonly db: DatabaseService,
    private readonly rules: IncidentRules,
  ) {}

  async list(): Promise<RuleView[]> {
    const rows = (await this.db.system.query(
      `SELECT i.signal,
              count(*)::int AS fired,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM incident_events e
                                             WHERE e.incident_id = i.id AND e.kind = 'flapping'))::int AS flapped,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.resolved_at - i.opened_at))
                FILTER (WHERE i.resolved_at IS NOT NULL) AS median_seconds,
              count(*) FILTER (WHERE i.status IN ('resolved', 'closed', 'cancelled') AND i.orgs_affected = 0)::int
                AS without_impact
       FROM incidents i WHERE i.source = 'rule' GROUP BY i.signal`,
    )) as { signal: string; fired: number; flapped: number; median_seconds: number | null; without_impact: number }[];
    return this.rules.all().map((rule) => {
      const r = rows.find((x) => x.signal === rule.signal);
      const stats: RuleStats = {
        fired: r?.fired ?? 0,
        flapped: r?.flapped ?? 0,
        median_seconds_to_resolve: r?.median_seconds === null || !r ? null : Math.round(Number(r.median_seconds)),
        fired_without_impact: r?.without_impact ?? 0,
      };
      const spec = SIGNALS[rule.signal];
      return {
        ...rule,
        unit: spec.unit,
        scope: spec.scope,
        description: spec.text,
        stats,
        tuning: tuning(rule, stats),
      };
    });
  }
}

/** Suggestions for a rule that flapped or fired without anybody being affected. */
export function tuning(rule: Rule, stats: RuleStats): string[] {
  const out: string[] = [];
  if (stats.flapped > 0) {
    out.push(
      `flapped ${stats.flapped} time(s): raise for_seconds (now ${rule.for_seconds}) or keep_firing_for_seconds (now ${rule.keep_firing_for_seconds})`,
    );
  }
  if (stats.fired_without_impact > 0 && stats.fired_without_impact * 2 >= stats.fired) {
    const worse = SIGNALS[rule.signal].worse === 'higher' ? 'raise' : 'lower';
    out.push(
      `${stats.fired_without_impact} of ${stats.fired} incident(s) affected no org: ${worse} the warning threshold (now ${rule.warning}) or critical (now ${rule.critical})`,
    );
  }
  return out;
}
