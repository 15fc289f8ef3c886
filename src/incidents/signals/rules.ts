import { isSignalName, SIGNALS } from './catalog';
import type { SignalName } from './catalog';

export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const CATEGORIES = ['capacity', 'availability', 'dependency', 'data_integrity', 'security'] as const;
export type Category = (typeof CATEGORIES)[number];
export const ACTIONS = [
  'payroll.pause_dispatch',
  'payroll.limit_concurrency',
  'sessions.sweep_now',
  'webhooks.defer_endpoint',
] as const;
export type ActionName = (typeof ACTIONS)[number];
export type Level = 'ok' | 'warning' | 'critical';

/** What turns a signal into an incident. */
export interface Rule {
  signal: SignalName;
  /** Thresholds on the signal's worse side (null: no such level). */
  warning: number | null;
  critical: number | null;
  /** How long the condition must hold before it fires. */
  for_seconds: number;
  /** How long it must be clear before the incident resolves. */
  keep_firing_for_seconds: number;
  severity: Record<Exclude<Level, 'ok'>, Severity>;
  category: Category;
  /** Safe actions applied automatically at critical level (reversible, time-bounded). */
  auto_actions: ActionName[];
  /** Actions proposed to an operator (POST /api/ops/incidents/:id/actions). */
  recommendations: string[];
}

type Defaults = Omit<Rule, 'signal'>;
const rule = (r: Partial<Defaults> & Pick<Defaults, 'warning' | 'critical' | 'category'>): Defaults => ({
  for_seconds: 60,
  keep_firing_for_seconds: 120,
  severity: { warning: 'SEV3', critical: 'SEV2' },
  auto_actions: [],
  recommendations: [],
  ...r,
});

/** Defaults for every signal; INCIDENT_THRESHOLDS overrides any of them. */
export const DEFAULT_RULES: Record<SignalName, Defaults> = {
  memory_rss_percent: rule({
    warning: 85,
    critical: 95,
    category: 'capacity',
    auto_actions: ['payroll.pause_dispatch'],
    recommendations: ['scale out the worker deployment or raise its memory limit'],
  }),
  event_loop_lag_ms: rule({ warning: 200, critical: 1000, category: 'capacity', recommendations: ['scale out'] }),
  disk_used_percent: rule({
    warning: 85,
    critical: 95,
    for_seconds: 0,
    keep_firing_for_seconds: 300,
    category: 'capacity',
    auto_actions: ['payroll.pause_dispatch'],
    recommendations: ['free or grow the data volume', 'run the retention tasks'],
  }),
  http_5xx_ratio: rule({
    warning: 0.02,
    critical: 0.1,
    category: 'availability',
    recommendations: ['read the api logs of the last 5 minutes by request id'],
  }),
  ticket_upload_failure_ratio: rule({
    warning: 0.2,
    critical: 0.5,
    for_seconds: 0,
    keep_firing_for_seconds: 300,
    category: 'data_integrity',
    severity: { warning: 'SEV4', critical: 'SEV3' },
    recommendations: ['contact the org about the rejected rows (errors[] name row and field)'],
  }),
  workers_alive: rule({
    warning: null,
    critical: 0,
    for_seconds: 15,
    keep_firing_for_seconds: 30,
    category: 'availability',
    severity: { warning: 'SEV2', critical: 'SEV1' },
    recommendations: ['start worker processes (kubectl rollout restart deployment/calmops-worker)'],
  }),
  queue_oldest_waiting_seconds: rule({
    warning: 120,
    critical: 600,
    category: 'capacity',
    recommendations: ['scale out the workers', 'check that workers are alive'],
  }),
  db_latency_ms: rule({
    warning: 200,
    critical: 1000,
    category: 'dependency',
    auto_actions: ['payroll.limit_concurrency'],
    recommendations: ['check the database host', 'put PgBouncer in front of PostgreSQL'],
  }),
  db_pool_waiting: rule({
    warning: 5,
    critical: 20,
    category: 'capacity',
    recommendations: ['raise DATABASE_POOL_SIZE'],
  }),
  webhook_failure_ratio: rule({
    warning: 0.5,
    critical: 0.9,
    for_seconds: 60,
    keep_firing_for_seconds: 300,
    category: 'dependency',
    severity: { warning: 'SEV4', critical: 'SEV3' },
    auto_actions: ['webhooks.defer_endpoint'],
    recommendations: ['ask the org to fix its receiver', 'disable the endpoint'],
  }),
  webhook_open_breakers: rule({
    warning: 1,
    critical: 5,
    for_seconds: 0,
    category: 'dependency',
    severity: { warning: 'SEV4', critical: 'SEV3' },
    recommendations: ['ask the org to fix its receivers'],
  }),
  payroll_failed_runs: rule({
    warning: 1,
    critical: 3,
    for_seconds: 0,
    keep_firing_for_seconds: 300,
    category: 'data_integrity',
    recommendations: ['ask the resolution agent about the failed run', 'retry the run (payroll control: retry)'],
  }),
  payroll_oldest_queued_seconds: rule({
    warning: 900,
    critical: 3600,
    category: 'capacity',
    recommendations: ['check the payroll health gates in queue-status', 'scale out the workers'],
  }),
  calls_waiting_without_agents: rule({
    warning: 1,
    critical: 10,
    category: 'availability',
    auto_actions: ['sessions.sweep_now'],
    recommendations: ['ask the org’s supervisors to bring agents online'],
  }),
  ops_alert_failures: rule({
    warning: 1,
    critical: 5,
    for_seconds: 0,
    category: 'dependency',
    severity: { warning: 'SEV4', critical: 'SEV3' },
    recommendations: ['check OPS_ALERT_WEBHOOK_URLS'],
  }),
};

/** An override of INCIDENT_THRESHOLDS: any of the numeric settings of a rule. */
export type RuleOverride = Partial<Pick<Rule, 'warning' | 'critical' | 'for_seconds' | 'keep_firing_for_seconds'>>;
export type RuleOverrides = Partial<Record<SignalName, RuleOverride>>;

const OVERRIDABLE = ['warning', 'critical', 'for_seconds', 'keep_firing_for_seconds'] as const;

/** Checks INCIDENT_THRESHOLDS (already parsed as a JSON object); throws a message naming what is wrong. */
export function parseRuleOverrides(parsed: Record<string, unknown>): RuleOverrides {
  const out: RuleOverrides = {};
  for (const [signal, value] of Object.entries(parsed)) {
    if (!isSignalName(signal)) throw new Error(`unknown signal "${signal}"`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`${signal}: must be an object of thresholds`);
    }
    const o: RuleOverride = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (!(OVERRIDABLE as readonly string[]).includes(key)) {
        throw new Error(`${signal}.${key}: not a setting (use ${OVERRIDABLE.join(', ')})`);
      }
      const nullable = key === 'warning' || key === 'critical';
      if (v === null && nullable) o[key as 'warning'] = null;
      else if (typeof v !== 'number' || !Number.isFinite(v) || (!nullable && v < 0)) {
        throw new Error(`${signal}.${key}: must be a ${nullable ? 'number or null' : 'number ≥ 0'}`);
      } else o[key as keyof RuleOverride] = v;
    }
    out[signal] = o;
  }
  return out;
}

export function effectiveRules(overrides: RuleOverrides): Rule[] {
  return (Object.keys(DEFAULT_RULES) as SignalName[]).map((signal) => ({
    signal,
    ...DEFAULT_RULES[signal],
    ...overrides[signal],
  }));
}

/** The level a value reaches under a rule (a missing value is no evidence: ok). */
export function levelOf(rule: Rule, value: number | null): Level {
  if (value === null) return 'ok';
  const worse = SIGNALS[rule.signal].worse;
  const reaches = (threshold: number | null) =>
    threshold !== null && (worse === 'higher' ? value >= threshold : value <= threshold);
  if (reaches(rule.critical)) return 'critical';
  if (reaches(rule.warning)) return 'warning';
  return 'ok';
}

/** Severity of an incident: the rule's for its level, one step up when many orgs are hit. */
export function severityOf(rule: Pick<Rule, 'severity'>, level: Exclude<Level, 'ok'>, orgsAffected: number): Severity {
  const base = rule.severity[level];
  if (orgsAffected < 10) return base;
  return SEVERITIES[Math.max(0, SEVERITIES.indexOf(base) - 1)];
}
