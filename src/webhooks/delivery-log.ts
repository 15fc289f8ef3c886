import type { EntityManager } from 'typeorm';

/** What an attempt left behind: its HTTP status, or why there was none. */
export interface AttemptRecord {
  statusCode: number | null;
  latencyMs: number;
  errorClass: string | null;
  /** The first 2 KB of the response body. */
  body: string | null;
}

/**
 * The one INSERT of the attempt log: $1 org, $2 delivery, $3 attempt, $4 status code, $5 latency,
 * $6 error class, $7 response body. Once per (delivery, attempt): a retried write is a no-op.
 */
export const LOG_ATTEMPT_SQL = `INSERT INTO webhook_delivery_log
    (org_id, delivery_id, attempt, status_code, latency_ms, error_class, response_body)
  VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO NOTHING`;

export function attemptParams(orgId: string, deliveryId: string, attempt: number, r: AttemptRecord): unknown[] {
  return [orgId, deliveryId, attempt, r.statusCode, r.latencyMs, r.errorClass, r.body];
}

export async function logAttempt(
  m: EntityManager,
  orgId: string,
  deliveryId: string,
  attempt: number,
  r: AttemptRecord,
): Promise<void> {
  await m.query(LOG_ATTEMPT_SQL, attemptParams(orgId, deliveryId, attempt, r));
}

/** The attempt of a worker that died mid-delivery gets a log row, so the log has no gap. */
export async function logLostAttempt(m: EntityManager, orgId: string, d: { id: string; attempts: number }) {
  if (d.attempts < 1) return;
  await logAttempt(m, orgId, d.id, d.attempts, {
    statusCode: null,
    latencyMs: 0,
    errorClass: 'worker_lost',
    body: null,
  });
}
