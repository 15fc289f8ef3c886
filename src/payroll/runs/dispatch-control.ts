import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatabaseService, returningRows } from '../../../libs/database';
import type { RunStatus } from './entities/payroll-run.entity';
import { transition } from './run-transitions';

/** The dispatch controls in force now, as the dispatcher reads them. */
export interface DispatchControls {
  /** Why dispatch is paused by an incident action, while it is. */
  pausedFor: string | null;
  /** The concurrency cap an incident action set, while it holds (else null). */
  concurrencyLimit: number | null;
}

type Touched = { id: string; org_id: string; status: RunStatus };

/**
 * Time-bounded controls over payroll dispatch, for safe stabilization actions: each names its
 * reason (the incident), lapses by itself at its `until` even if nobody reverts it, and is
 * undone only by the same reason (an operator's own pause_all is never lifted by an incident).
 * Cross-tenant by nature: the system connection.
 */
@Injectable()
export class PayrollDispatchControl {
  constructor(private readonly db: DatabaseService) {}

  /**
   * Queued runs wait; running runs stop at their next checkpoint (status paused, with the
   * reason), to be queued again when the pause is lifted or lapses.
   */
  async pauseDispatch(reason: string, until: Date): Promise<{ running_paused: number }> {
    return this.db.system.transaction(async (m) => {
      await m.query(`UPDATE payroll_control SET incident_pause_until = $1, incident_pause_reason = $2 WHERE id = 1`, [
        until,
        reason,
      ]);
      const asked = await returningRows<{ id: string }>(
        m,
        `UPDATE payroll_runs SET pause_requested = true, paused_reason = $1
         WHERE status = 'running' AND NOT pause_requested RETURNING id`,
        [reason],
      );
      return { running_paused: asked.length };
    });
  }

  /** Lifts the pause of `reason` (no-op if another reason paused) and queues its paused runs again. */
  async resumeDispatch(reason: string): Promise<{ runs_resumed: number }> {
    return this.db.system.transaction(async (m) => {
      const lifted = await returningRows<{ id: number }>(
        m,
        `UPDATE payroll_control SET incident_pause_until = NULL, incident_pause_reason = NULL
         WHERE id = 1 AND incident_pause_reason = $1 RETURNING id`,
        [reason],
      );
      return { runs_resumed: lifted.length ? await this.requeuePausedBy(m, reason) : 0 };
    });
  }

  async limitConcurrency(limit: number, reason: string, until: Date): Promise<void> {
    await this.db.system.query(
      `UPDATE payroll_control SET concurrency_limit = $1, concurrency_limit_until = $2, concurrency_limit_reason = $3
       WHERE id = 1`,
      [limit, until, reason],
    );
  }

  async clearConcurrencyLimit(reason: string): Promise<void> {
    await this.db.system.query(
      `UPDATE payroll_control SET concurrency_limit = NULL, concurrency_limit_until = NULL, concurrency_limit_reason = NULL
       WHERE id = 1 AND concurrency_limit_reason = $1`,
      [reason],
    );
  }

  /** What holds now; a pause past its time is lifted here (its runs queued again). */
  async current(): Promise<DispatchControls> {
    return this.db.system.transaction(async (m) => {
      const [row] = (await m.query(
        `SELECT incident_pause_reason AS reason, incident_pause_until > now() AS pause_holds,
                CASE WHEN concurrency_limit_until > now() THEN concurrency_limit END AS limit
         FROM payroll_control WHERE id = 1 FOR UPDATE`,
      )) as { reason: string | null; pause_holds: boolean | null; limit: number | null }[];
      if (row?.reason && !row.pause_holds) {
        await m.query(
          `UPDATE payroll_control SET incident_pause_until = NULL, incident_pause_reason = NULL WHERE id = 1`,
        );
        await this.requeuePausedBy(m, row.reason);
        return { pausedFor: null, concurrencyLimit: row.limit };
      }
      return { pausedFor: row?.reason ?? null, concurrencyLimit: row?.limit ?? null };
    });
  }

  private async requeuePausedBy(m: EntityManager, reason: string): Promise<number> {
    await m.query(
      `UPDATE payroll_runs SET pause_requested = false, paused_reason = NULL
       WHERE status = 'running' AND pause_requested AND paused_reason = $1`,
      [reason],
    );
    const paused = (await m.query(
      `SELECT id, org_id, status FROM payroll_runs WHERE status = 'paused' AND paused_reason = $1 FOR UPDATE`,
      [reason],
    )) as Touched[];
    for (const r of paused) {
      await transition(m, { id: r.id, orgId: r.org_id, status: r.status }, 'queued', 'system:incidents', reason, {
        paused_reason: null,
        next_attempt_at: new Date(),
      });
    }
    return paused.length;
  }
}
