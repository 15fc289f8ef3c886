import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { APP_ROLE, AppConfig } from '../../../libs/config';
import type { AppRole } from '../../../libs/config';
import { LifecycleService } from '../../../libs/core';
import { DatabaseService } from '../../../libs/database';
import { MetricsService } from '../../../libs/observability';
import { ClusterCron } from '../../../libs/queue';
import { IncidentActions } from '../actions.service';
import { OPEN_STATUSES } from '../entities/incident.entity';
import { IncidentLifecycle } from '../incident-lifecycle.service';
import { dedupKey, SIGNALS } from '../signals/catalog';
import type { Reading, SignalName } from '../signals/catalog';
import { IncidentRules } from '../signals/incident-rules';
import { levelOf } from '../signals/rules';
import { SignalReadings } from '../signals/signal-readings';
import { evaluateCondition, INITIAL_STATE } from './condition-state';
import type { ConditionState, Decision } from './condition-state';

export const EVALUATE_CRON = 'incidents.evaluate';

interface StateRow {
  key: string;
  signal: string;
  scope: string;
  resource: string;
  level: ConditionState['level'];
  history: string;
  breached_since: Date | null;
  clear_since: Date | null;
  flapping: boolean;
  incident_id: string | null;
  incident_open: boolean | null;
}

/** What one evaluation saw and did. */
export interface EvaluationSummary {
  readings: number;
  unknown: number;
  opened: string[];
  escalated: string[];
  resolved: string[];
  flapping: string[];
}

/**
 * Turns readings into incidents. Once per HEALTH_SAMPLE_SECONDS across the cluster (cluster
 * cron, on a worker) every condition `signal:scope[:resource]` is evaluated against its rule
 * with what the detector remembers of it (incident_rule_states): fired after `for_seconds`,
 * escalated when worse, resolved after `keep_firing_for_seconds` clear, one quiet incident
 * while flapping. A reading that could not be measured changes nothing (no evidence either
 * way); a condition with no reading any more (a dead process, an org whose trouble is gone) is
 * clear. When no worker has evaluated for three intervals — no worker is alive to do it — the
 * api processes evaluate `workers_alive` themselves, one of them per interval.
 */
@Injectable()
export class IncidentDetector implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IncidentDetector');
  private readonly evaluations;
  private readonly duration;
  private fallbackTimer?: NodeJS.Timeout;
  private fallbackRunning?: Promise<unknown>;

  constructor(
    private readonly db: DatabaseService,
    private readonly readings: SignalReadings,
    private readonly rules: IncidentRules,
    private readonly lifecycle: IncidentLifecycle,
    private readonly actions: IncidentActions,
    private readonly app: LifecycleService,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
    metrics: MetricsService,
  ) {
    this.evaluations = metrics.counter(
      'incident_evaluations_total',
      'Incident rule evaluations run by this process (by: cron on a worker, fallback on an api process when no worker evaluates).',
      ['by'],
    );
    this.duration = metrics.histogram(
      'incident_evaluation_seconds',
      'Wall time of one incident rule evaluation.',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
  }

  @ClusterCron(EVALUATE_CRON, (c) => ({ everyMs: c.get('HEALTH_SAMPLE_SECONDS') * 1000 }))
  async onTick(): Promise<EvaluationSummary> {
    this.evaluations.inc({ by: 'cron' });
    return this.evaluate();
  }

  onApplicationBootstrap(): void {
    if (this.role !== 'api') return;
    const every = this.config.get('HEALTH_SAMPLE_SECONDS') * 1000;
    this.fallbackTimer = setInterval(() => {
      if (this.fallbackRunning || this.app.shuttingDown || !this.db.connected) return;
      this.fallbackRunning = this.fallback()
        .catch((err: Error) => this.logger.warn(`workers_alive fallback: ${err.message}`))
        .finally(() => (this.fallbackRunning = undefined));
    }, every);
    this.fallbackTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.fallbackTimer) clearInterval(this.fallbackTimer);
    await this.fallbackRunning;
  }

  /**
   * An api process's check that somebody is evaluating: when no worker claimed an evaluation
   * tick in three intervals, the api process that wins this interval's fallback tick (the same
   * exactly-once claim as the cluster cron) evaluates `workers_alive`.
   */
  async fallback(): Promise<EvaluationSummary | null> {
    const seconds = this.config.get('HEALTH_SAMPLE_SECONDS');
    const [row] = (await this.db.system.query(
      `SELECT coalesce(max(tick_at) > now() - make_interval(secs => $2), false) AS recent
       FROM cluster_cron_ticks WHERE name = $1`,
      [EVALUATE_CRON, seconds * 3],
    )) as { recent: boolean }[];
    if (row?.recent) return null;
    const tick = new Date(Math.floor(Date.now() / (seconds * 1000)) * seconds * 1000);
    const won = (await this.db.system.query(
      `INSERT INTO cluster_cron_ticks (name, tick_at, fired_by) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING name`,
      [`${EVALUATE_CRON}.fallback`, tick, this.app.instanceId],
    )) as unknown[];
    if (!won.length) return null;
    this.evaluations.inc({ by: 'fallback' });
    return this.evaluate({ only: ['workers_alive'] });
  }

  /** One evaluation: the readings (measured now unless given) against the remembered states. */
  async evaluate(opts: { only?: SignalName[]; readings?: Reading[]; now?: Date } = {}): Promise<EvaluationSummary> {
    const stop = this.duration.startTimer();
    try {
      const now = opts.now ?? new Date();
      const readings = opts.readings ?? (await this.readings.current(opts.only));
      await this.record(readings);
      const states = await this.loadStates(opts.only);
      const summary: EvaluationSummary = {
        readings: readings.length,
        unknown: readings.filter((r) => r.value === null).length,
        opened: [],
        escalated: [],
        resolved: [],
        flapping: [],
      };
      const byKey = new Map<string, Reading>();
      for (const r of readings) byKey.set(dedupKey(r), r);
      const keys = new Set([...byKey.keys(), ...states.keys()]);
      const changes: { key: string; reading: Reading | null; row: StateRow | undefined; state: ConditionState }[] = [];
      const work: { key: string; reading: Reading | null; row: StateRow | undefined; decisions: Decision[] }[] = [];
      for (const key of keys) {
        const reading = byKey.get(key) ?? null;
        // Unknown: no evidence either way, the condition stays as it was.
        if (reading && reading.value === null) continue;
        const row = states.get(key);
        const signal = (reading?.signal ?? row?.signal) as SignalName;
        if (!(signal in SIGNALS)) continue;
        const rule = this.rules.of(signal);
        const prev: ConditionState = row
          ? {
              level: row.incident_open ? row.level : 'ok',
              history: row.history,
              breachedSince: row.breached_since,
              clearSince: row.clear_since,
              flapping: row.flapping,
              incidentOpen: row.incident_open === true,
            }
          : INITIAL_STATE;
        const observed = reading ? levelOf(rule, reading.value) : 'ok';
        const { state, decisions } = evaluateCondition(prev, observed, now, rule);
        changes.push({ key, reading, row, state });
        if (decisions.length || (state.incidentOpen && reading)) work.push({ key, reading, row, decisions });
      }
      await this.saveStates(changes);
      for (const w of work) await this.act(w, summary);
      const open = (await this.db.system.query(`SELECT id FROM incidents WHERE status = ANY($1)`, [OPEN_STATUSES])) as {
        id: string;
      }[];
      await this.actions.renewOrExpire(open.map((o) => o.id));
      return summary;
    } finally {
      stop();
    }
  }

  private async act(
    w: { key: string; reading: Reading | null; row: StateRow | undefined; decisions: Decision[] },
    summary: EvaluationSummary,
  ): Promise<void> {
    let incidentId = w.row?.incident_open ? w.row.incident_id : null;
    for (const d of w.decisions) {
      try {
        if (d.kind === 'open' && w.reading) {
          const incident = await this.lifecycle.open(w.reading, d.level, w.row?.breached_since ?? null);
          incidentId = incident.id;
          await this.db.system.query(`UPDATE incident_rule_states SET incident_id = $2 WHERE key = $1`, [
            w.key,
            incident.id,
          ]);
          summary.opened.push(incident.id);
        } else if (d.kind === 'escalate' && incidentId && w.reading) {
          await this.lifecycle.escalate(incidentId, w.reading, d.level);
          summary.escalated.push(incidentId);
        } else if (d.kind === 'resolve' && incidentId) {
          await this.lifecycle.resolveByRule(incidentId, w.reading?.value ?? null);
          summary.resolved.push(incidentId);
          incidentId = null;
        } else if (d.kind === 'flapping' && incidentId) {
          await this.lifecycle.setFlapping(incidentId, d.flapping);
          if (d.flapping) summary.flapping.push(incidentId);
        }
      } catch (err) {
        this.logger.error({ key: w.key, decision: d.kind }, `incident ${d.kind} failed: ${(err as Error).message}`);
      }
    }
    if (incidentId && w.reading && !w.decisions.some((d) => d.kind === 'open')) {
      await this.lifecycle.refresh(incidentId, w.reading.value);
    }
  }

  /** Cluster and org readings are computed here, not by a process: stored so each has a series. */
  private async record(readings: Reading[]): Promise<void> {
    const rows = readings
      .filter((r) => r.scope === 'cluster' || r.scope === 'org')
      .map((r) => ({
        signal: r.signal,
        scope: r.scope,
        resource: r.resource,
        value: r.value,
        unknown_reason: r.unknownReason ?? null,
      }));
    if (!rows.length) return;
    await this.db.system.query(
      `INSERT INTO health_samples (signal, scope, resource, value, unknown_reason, role)
       SELECT x.signal, x.scope, x.resource, x.value, x.unknown_reason, 'detector'
       FROM jsonb_to_recordset($1::jsonb) AS x(signal text, scope text, resource text, value float8, unknown_reason text)`,
      [JSON.stringify(rows)],
    );
  }

  private async loadStates(only?: SignalName[]): Promise<Map<string, StateRow>> {
    const rows = (await this.db.system.query(
      `SELECT s.key, s.signal, s.scope, s.resource, s.level, s.history, s.breached_since, s.clear_since, s.flapping,
              s.incident_id, i.status = ANY($2) AS incident_open
       FROM incident_rule_states s LEFT JOIN incidents i ON i.id = s.incident_id
       WHERE $1::text[] IS NULL OR s.signal = ANY($1)`,
      [only ?? null, OPEN_STATUSES],
    )) as StateRow[];
    return new Map(rows.map((r) => [r.key, r]));
  }

  /**
   * One statement writes every changed state; a condition that has not breached in the whole
   * flap window and has no incident is forgotten (most conditions, most of the time).
   */
  private async saveStates(
    changes: { key: string; reading: Reading | null; row: StateRow | undefined; state: ConditionState }[],
  ): Promise<void> {
    const keep = changes.filter((c) => c.state.incidentOpen || c.state.history.includes('1'));
    const forget = changes.filter((c) => c.row && !keep.includes(c)).map((c) => c.key);
    if (keep.length) {
      await this.db.system.query(
        `INSERT INTO incident_rule_states AS s (key, signal, scope, resource, level, history, breached_since, clear_since,
                                               flapping, last_value, updated_at)
         SELECT x.key, x.signal, x.scope, x.resource, x.level, x.history, x.breached_since, x.clear_since, x.flapping,
                x.last_value, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(key text, signal text, scope text, resource text, level text,
              history text, breached_since timestamptz, clear_since timestamptz, flapping boolean, last_value float8)
         ON CONFLICT (key) DO UPDATE SET level = EXCLUDED.level, history = EXCLUDED.history,
           breached_since = EXCLUDED.breached_since, clear_since = EXCLUDED.clear_since, flapping = EXCLUDED.flapping,
           last_value = coalesce(EXCLUDED.last_value, s.last_value), updated_at = now()`,
        [
          JSON.stringify(
            keep.map((c) => ({
              key: c.key,
              signal: c.reading?.signal ?? c.row!.signal,
              scope: c.reading?.scope ?? c.row!.scope,
              resource: c.reading?.resource ?? c.row!.resource,
              level: c.state.level,
              history: c.state.history,
              breached_since: c.state.breachedSince?.toISOString() ?? null,
              clear_since: c.state.clearSince?.toISOString() ?? null,
              flapping: c.state.flapping,
              last_value: c.reading?.value ?? null,
            })),
          ),
        ],
      );
    }
    if (forget.length) await this.db.system.query(`DELETE FROM incident_rule_states WHERE key = ANY($1)`, [forget]);
  }
}
