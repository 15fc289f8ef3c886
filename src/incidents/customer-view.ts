import type { Incident } from './entities/incident.entity';

/** Product areas a signal touches, as a customer knows them. */
const FEATURES: Record<string, string[]> = {
  memory_rss_percent: ['payroll', 'webhooks', 'calls'],
  event_loop_lag_ms: ['api'],
  disk_used_percent: ['payroll', 'webhooks'],
  http_5xx_ratio: ['api'],
  ticket_upload_failure_ratio: ['payroll uploads'],
  workers_alive: ['payroll', 'webhooks', 'calls'],
  queue_oldest_waiting_seconds: ['payroll', 'webhooks', 'calls'],
  db_latency_ms: ['api', 'payroll', 'webhooks', 'calls'],
  db_pool_waiting: ['api'],
  webhook_failure_ratio: ['webhooks'],
  webhook_open_breakers: ['webhooks'],
  payroll_failed_runs: ['payroll'],
  payroll_oldest_queued_seconds: ['payroll'],
  calls_waiting_without_agents: ['calls'],
  ops_alert_failures: [],
};

const TITLES: Record<string, string> = {
  memory_rss_percent: 'Slower background processing',
  event_loop_lag_ms: 'Slower API responses',
  disk_used_percent: 'Background processing paused',
  http_5xx_ratio: 'Elevated API errors',
  ticket_upload_failure_ratio: 'Ticket uploads rejected',
  workers_alive: 'Background processing stopped',
  queue_oldest_waiting_seconds: 'Delayed background processing',
  db_latency_ms: 'Slower service',
  db_pool_waiting: 'Slower API responses',
  webhook_failure_ratio: 'Webhook deliveries failing',
  webhook_open_breakers: 'Webhook deliveries failing',
  payroll_failed_runs: 'Payroll runs failed',
  payroll_oldest_queued_seconds: 'Delayed payroll runs',
  calls_waiting_without_agents: 'Calls waiting without agents',
  ops_alert_failures: 'Operator alerting degraded',
};

/** The features an incident touches (a declared incident: those it names). */
export function featuresOf(incident: Pick<Incident, 'signal'>, declared: string[] = []): string[] {
  return incident.signal ? (FEATURES[incident.signal] ?? []) : declared;
}

/** A title a customer may read: what is affected, never which process, host or org. */
export function customerTitle(incident: Pick<Incident, 'signal' | 'title' | 'source'>): string {
  if (incident.source === 'manual' || !incident.signal) return incident.title;
  return TITLES[incident.signal] ?? 'Service degradation';
}
