/**
 * Every health signal CalmOps measures: its name (the contract of the rules and of
 * GET /api/ops/health), unit, scope, and which way is worse. No Nest, no database.
 */
export const SIGNALS = {
  memory_rss_percent: {
    unit: 'percent',
    scope: 'process',
    worse: 'higher',
    text: 'RSS of the process against its memory limit',
  },
  event_loop_lag_ms: {
    unit: 'ms',
    scope: 'process',
    worse: 'higher',
    text: 'p99 event-loop delay over the sample window',
  },
  disk_used_percent: {
    unit: 'percent',
    scope: 'host',
    worse: 'higher',
    text: 'used space of the data directory’s file system',
  },
  http_5xx_ratio: {
    unit: 'ratio',
    scope: 'cluster',
    worse: 'higher',
    text: '5xx responses ÷ all responses, last 5 min, all api processes',
  },
  ticket_upload_failure_ratio: {
    unit: 'ratio',
    scope: 'org',
    worse: 'higher',
    text: 'rejected ÷ all payroll ticket uploads of the org, last 15 min',
  },
  workers_alive: { unit: 'count', scope: 'cluster', worse: 'lower', text: 'worker processes with a fresh heartbeat' },
  queue_oldest_waiting_seconds: {
    unit: 'seconds',
    scope: 'cluster',
    worse: 'higher',
    text: 'age of the oldest job due and not started, per queue',
  },
  db_latency_ms: { unit: 'ms', scope: 'process', worse: 'higher', text: 'round trip of a trivial query' },
  db_pool_waiting: { unit: 'count', scope: 'process', worse: 'higher', text: 'clients waiting for a pool connection' },
  webhook_failure_ratio: {
    unit: 'ratio',
    scope: 'org',
    worse: 'higher',
    text: 'failed ÷ all webhook delivery attempts of the org, last 15 min',
  },
  webhook_open_breakers: {
    unit: 'count',
    scope: 'org',
    worse: 'higher',
    text: 'webhook endpoints of the org with an open breaker',
  },
  payroll_failed_runs: {
    unit: 'count',
    scope: 'org',
    worse: 'higher',
    text: 'payroll runs of the org failed in the last hour',
  },
  payroll_oldest_queued_seconds: {
    unit: 'seconds',
    scope: 'org',
    worse: 'higher',
    text: 'age of the org’s oldest queued payroll run',
  },
  calls_waiting_without_agents: {
    unit: 'count',
    scope: 'org',
    worse: 'higher',
    text: 'queued calls of an org with no routable agent',
  },
  ops_alert_failures: {
    unit: 'count',
    scope: 'cluster',
    worse: 'higher',
    text: 'operator alert deliveries that failed in the last 15 min',
  },
} as const satisfies Record<string, { unit: string; scope: SignalScope; worse: 'higher' | 'lower'; text: string }>;

export type SignalScope = 'process' | 'host' | 'cluster' | 'org';
export type SignalName = keyof typeof SIGNALS;
export const SIGNAL_NAMES = Object.keys(SIGNALS) as SignalName[];

export function isSignalName(value: string): value is SignalName {
  return Object.prototype.hasOwnProperty.call(SIGNALS, value);
}

/** One measurement of a signal, for one process, host, org or resource (or the cluster). */
export interface Reading {
  signal: SignalName;
  scope: SignalScope;
  /** The process id, host name, org id, queue name… ('' for the cluster). */
  resource: string;
  /** null with a reason when it could not be measured: never a made-up default. */
  value: number | null;
  unknownReason?: string;
  measuredAt: Date;
  /** For org-scoped readings: the org. */
  orgId?: string;
}

/** The dedup key of a condition: `signal:scope[:resource]`. */
export function dedupKey(r: Pick<Reading, 'signal' | 'scope' | 'resource'>): string {
  return r.resource ? `${r.signal}:${r.scope}:${r.resource}` : `${r.signal}:${r.scope}`;
}
