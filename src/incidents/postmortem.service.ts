import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { ProblemException } from '../../libs/http';
import type { Incident } from './entities/incident.entity';
import { IncidentTimeline } from './incident-timeline';
import type { TimelineEntry } from './incident-timeline';
import { SIGNALS } from './signals/catalog';
import type { SignalName } from './signals/catalog';
import { IncidentRules } from './signals/incident-rules';

export interface Postmortem {
  incident_id: string;
  title: string;
  severity: string;
  category: string;
  status: string;
  summary: string;
  impact: {
    orgs_affected: number;
    orgs: { org_id: string; features: string[]; counts: Record<string, number>; duration_seconds: number }[];
  };
  timings: {
    condition_since: string | null;
    opened_at: string;
    mitigated_at: string | null;
    resolved_at: string | null;
    time_to_detect_seconds: number | null;
    time_to_mitigate_seconds: number | null;
    time_to_resolve_seconds: number | null;
  };
  actions: {
    action: string;
    automatic: boolean;
    params: Record<string, unknown>;
    applied_at: string;
    status: string;
    reverted_at: string | null;
  }[];
  series: { at: string; resource: string; value: number | null }[];
  timeline: TimelineEntry[];
  action_items: string[];
  lessons: string | null;
}

const seconds = (from: Date | null, to: Date | null) =>
  from && to ? Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000)) : null;

/** The draft postmortem of an incident, from its own records; Markdown on request. */
@Injectable()
export class PostmortemService {
  constructor(
    private readonly db: DatabaseService,
    private readonly timeline: IncidentTimeline,
    private readonly rules: IncidentRules,
  ) {}

  async build(incident: Incident): Promise<Postmortem> {
    if (['triage', 'active', 'cancelled'].includes(incident.status)) {
      throw new ProblemException(
        409,
        `A postmortem is drafted once the incident is mitigated; it is ${incident.status}.`,
        {
          status_now: incident.status,
        },
      );
    }
    const timeline = await this.timeline.list(incident.id);
    const detected = timeline.find((e) => e.kind === 'detected');
    const since = typeof detected?.data.condition_since === 'string' ? new Date(detected.data.condition_since) : null;
    const end = incident.resolvedAt ?? new Date();
    const impacts = (await this.db.system.query(
      `SELECT org_id, features, counts, started_at, coalesce(resolved_at, now()) AS ended_at
       FROM incident_impacts WHERE incident_id = $1 ORDER BY org_id`,
      [incident.id],
    )) as { org_id: string; features: string[]; counts: Record<string, number>; started_at: Date; ended_at: Date }[];
    const actions = (await this.db.system.query(
      `SELECT action, automatic, params, applied_at, status, reverted_at FROM incident_actions
       WHERE incident_id = $1 ORDER BY applied_at`,
      [incident.id],
    )) as {
      action: string;
      automatic: boolean;
      params: Record<string, unknown>;
      applied_at: Date;
      status: string;
      reverted_at: Date | null;
    }[];
    const series = incident.signal ? await this.series(incident, since ?? incident.openedAt, end) : [];
    const rule = incident.signal && incident.signal in SIGNALS ? this.rules.of(incident.signal as SignalName) : null;
    const items = [
      ...(rule?.recommendations ?? []).map((r) => `Consider: ${r}.`),
      ...(incident.flapping || timeline.some((e) => e.kind === 'flapping')
        ? [`The rule flapped: raise for_seconds or keep_firing_for_seconds of ${incident.signal}.`]
        : []),
      ...actions
        .filter((a) => a.status === 'expired')
        .map((a) => `${a.action} lapsed before the incident ended: check whether it should last longer.`),
      ...(impacts.length ? [] : ['No org was affected: check whether this rule should page anyone.']),
    ];
    return {
      incident_id: incident.id,
      title: incident.title,
      severity: incident.severity,
      category: incident.category,
      status: incident.status,
      summary:
        incident.summary ??
        `${incident.title}. ${impacts.length} org(s) affected; worst value ${incident.worstValue ?? 'n/a'}` +
          `${incident.signal ? ` ${SIGNALS[incident.signal as SignalName]?.unit ?? ''}` : ''}.`,
      impact: {
        orgs_affected: impacts.length,
        orgs: impacts.map((i) => ({
          org_id: i.org_id,
          features: i.features,
          counts: i.counts,
          duration_seconds: seconds(i.started_at, i.ended_at) ?? 0,
        })),
      },
      timings: {
        condition_since: since?.toISOString() ?? null,
        opened_at: incident.openedAt.toISOString(),
        mitigated_at: incident.mitigatedAt?.toISOString() ?? null,
        resolved_at: incident.resolvedAt?.toISOString() ?? null,
        time_to_detect_seconds: seconds(since, incident.openedAt),
        time_to_mitigate_seconds: seconds(incident.openedAt, incident.mitigatedAt),
        time_to_resolve_seconds: seconds(incident.openedAt, incident.resolvedAt),
      },
      actions: actions.map((a) => ({
        action: a.action,
        automatic: a.automatic,
        params: a.params,
        applied_at: a.applied_at.toISOString(),
        status: a.status,
        reverted_at: a.reverted_at?.toISOString() ?? null,
      })),
      series,
      timeline,
      action_items: items,
      lessons: incident.lessons,
    };
  }

  /** The signal's samples from 10 minutes before the condition to 10 minutes after the end. */
  private async series(incident: Incident, from: Date, to: Date): Promise<Postmortem['series']> {
    const rows = (await this.db.system.query(
      `SELECT measured_at, resource, value FROM health_samples
       WHERE signal = $1 AND ($2 = '' OR resource = $2)
         AND measured_at BETWEEN $3::timestamptz - interval '10 minutes' AND $4::timestamptz + interval '10 minutes'
       ORDER BY measured_at LIMIT 2000`,
      [incident.signal, incident.resource, from, to],
    )) as { measured_at: Date; resource: string; value: number | null }[];
    return rows.map((r) => ({ at: r.measured_at.toISOString(), resource: r.resource, value: r.value }));
  }
}

/** The postmortem as a Markdown document. */
export function postmortemMarkdown(p: Postmortem): string {
  const t = p.timings;
  const lines = [
    `# Postmortem: ${p.title}`,
    '',
    `${p.severity} · ${p.category} · ${p.status}`,
    '',
    '## Summary',
    '',
    p.summary,
    '',
    '## Impact',
    '',
    `${p.impact.orgs_affected} org(s) affected.`,
    '',
    ...(p.impact.orgs.length
      ? [
          '| org | features | duration (s) |',
          '|---|---|---|',
          ...p.impact.orgs.map((o) => `| ${o.org_id} | ${o.features.join(', ')} | ${o.duration_seconds} |`),
          '',
        ]
      : []),
    '## Timings',
    '',
    `- condition since: ${t.condition_since ?? 'n/a'}`,
    `- opened: ${t.opened_at} (time to detect: ${t.time_to_detect_seconds ?? 'n/a'} s)`,
    `- mitigated: ${t.mitigated_at ?? 'n/a'} (time to mitigate: ${t.time_to_mitigate_seconds ?? 'n/a'} s)`,
    `- resolved: ${t.resolved_at ?? 'n/a'} (time to resolve: ${t.time_to_resolve_seconds ?? 'n/a'} s)`,
    '',
    '## Actions',
    '',
    ...(p.actions.length
      ? p.actions.map(
          (a) =>
            `- ${a.action} (${a.automatic ? 'automatic' : 'operator'}) applied ${a.applied_at}, ${a.status}` +
            `${a.reverted_at ? ` ${a.reverted_at}` : ''}`,
        )
      : ['- none']),
    '',
    '## Timeline',
    '',
    ...p.timeline.map((e) => `- ${e.at} ${e.kind} by ${e.actor}${summaryOf(e)}`),
    '',
    '## Signal',
    '',
    `${p.series.length} sample(s)` +
      (p.series.length
        ? `; min ${Math.min(...p.series.map((s) => s.value ?? Infinity))}, max ${Math.max(...p.series.map((s) => s.value ?? -Infinity))}`
        : ''),
    '',
    '## Action items',
    '',
    ...(p.action_items.length ? p.action_items.map((i) => `- [ ] ${i}`) : ['- none']),
    '',
    '## Lessons',
    '',
    p.lessons ?? '_To be written when the incident is closed._',
    '',
  ];
  return lines.join('\n');
}

function summaryOf(e: TimelineEntry): string {
  const d = e.data;
  if (e.kind === 'state_changed') return `: ${String(d.from)} → ${String(d.to)}`;
  if (e.kind === 'note') return `: ${String(d.text)}`;
  if (e.kind.startsWith('action')) return `: ${String(d.action)}`;
  if (e.kind === 'metric_snapshot') return `: ${String(d.at)} value ${String(d.value)}`;
  return '';
}
