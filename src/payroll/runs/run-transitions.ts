import type { EntityManager } from 'typeorm';
import type { RunStatus } from './entities/payroll-run.entity';

/** Rows a run passes through; every change of status appends a history row. */
export async function transition(
  manager: EntityManager,
  run: { id: string; orgId: string; status: RunStatus },
  to: RunStatus,
  actor: string,
  reason: string | null,
  set: Record<string, unknown> = {},
): Promise<void> {
  const columns = Object.keys(set);
  const assignments = ['status = $3', ...columns.map((c, i) => `${c} = $${i + 4}`)];
  if (to !== 'running') assignments.push('lease_owner = NULL', 'lease_expires_at = NULL');
  await manager.query(`UPDATE payroll_runs SET ${assignments.join(', ')} WHERE id = $1 AND org_id = $2`, [
    run.id,
    run.orgId,
    to,
    ...columns.map((c) => set[c]),
  ]);
  await manager.query(
    `INSERT INTO payroll_run_events (org_id, run_id, from_status, to_status, actor, reason) VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.orgId, run.id, run.status, to, actor, reason],
  );
}

export class LeaseLostError extends Error {
  constructor(runId: string) {
    super(`lost the lease on payroll run ${runId}`);
  }
}
