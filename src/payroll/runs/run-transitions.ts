import type { EntityManager } from 'typeorm';
import type { RunStatus } from './entities/payroll-run.entity';

export interface RunRef {
  id: string;
  orgId: string;
  /** The status the run is leaving; null when it is being created. */
  status: RunStatus | null;
}

/** The event row of one status change: every change of a run's status appends one. */
export async function recordRunEvent(
  manager: EntityManager,
  run: RunRef,
  to: RunStatus,
  why: { actor: string; reason: string | null },
): Promise<void> {
  await manager.query(
    `INSERT INTO payroll_run_events (org_id, run_id, from_status, to_status, actor, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.orgId, run.id, run.status, to, why.actor, why.reason],
  );
}

/**
 * The one way a run's status changes (after it was created): the row and its event row, in
 * the caller's transaction. `set` holds values to write with it; `setSql` holds SQL
 * expressions written by this code (never request input), e.g. `attempts + 1`.
 */
export async function transition(
  manager: EntityManager,
  run: RunRef & { status: RunStatus },
  to: RunStatus,
  actor: string,
  reason: string | null,
  set: Record<string, unknown> = {},
  setSql: Record<string, string> = {},
): Promise<void> {
  const columns = Object.keys(set);
  const assignments = [
    'status = $3',
    ...columns.map((c, i) => `${c} = $${i + 4}`),
    ...Object.entries(setSql).map(([c, sql]) => `${c} = ${sql}`),
  ];
  if (to !== 'running') assignments.push('lease_owner = NULL', 'lease_expires_at = NULL');
  await manager.query(`UPDATE payroll_runs SET ${assignments.join(', ')} WHERE id = $1 AND org_id = $2`, [
    run.id,
    run.orgId,
    to,
    ...columns.map((c) => set[c]),
  ]);
  await recordRunEvent(manager, run, to, { actor, reason });
}

export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`lost the lease on payroll run ${runId}`);
  }
}
