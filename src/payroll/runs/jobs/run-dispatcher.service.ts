import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_ROLE, AppConfig, runsJobs } from '../../../../libs/config';
import type { AppRole } from '../../../../libs/config';
import { DatabaseService, WakeLoop } from '../../../../libs/database';
import { LifecycleService } from '../../../../libs/core';
import { MetricsService } from '../../../../libs/observability';
import { PayrollDispatchControl } from '../dispatch-control';
import { PayrollHealthGates } from '../health-gates.service';
import { releaseStaleSlots } from '../payroll-slots';
import { RunExecutor } from '../run-executor.service';
import { transition } from '../run-transitions';

interface Claimed {
  id: string;
  org_id: string;
}

/**
 * Starts queued payroll runs (worker roles only). The database decides what may run: a run
 * becomes 'running' only in the transaction that takes a free row of payroll_slots
 * (FOR UPDATE SKIP LOCKED, at most PAYROLL_MAX_CONCURRENT rows count), and the partial unique
 * index on running runs per org refuses a second one in an org. Leases that are not renewed
 * send their run back to the queue, where any worker resumes it at its cursor.
 */
@Injectable()
export class RunDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PayrollDispatcher');
  private readonly active = new Map<string, Promise<void>>();
  private loop?: WakeLoop;
  private readonly passes;

  constructor(
    private readonly db: DatabaseService,
    private readonly executor: RunExecutor,
    private readonly gates: PayrollHealthGates,
    private readonly control: PayrollDispatchControl,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
    metrics: MetricsService,
  ) {
    this.passes = metrics.counter(
      'payroll_dispatch_passes_total',
      'Dispatch passes of this worker (each checks the gates and claims what it may).',
    );
  }

  onApplicationBootstrap(): void {
    if (!runsJobs(this.role)) return;
    this.loop = new WakeLoop({
      connectionString: this.config.sessionUrl!,
      channel: 'calmops_payroll_runs',
      applicationName: 'calmops:payroll-dispatcher',
      intervalMs: this.config.get('PAYROLL_POLL_INTERVAL_MS'),
      pass: () => this.tick(),
      onError: (err) => this.logger.warn(`dispatch: ${err.message}`),
    });
    this.loop.start(this.db.whenConnected());
  }

  /** Who claims and recovers runs: this worker process, so a run's history says which one. */
  private get actor(): string {
    return `worker:${this.lifecycle.instanceId}`;
  }

  /** Runs one dispatch pass now, or right after the current one. */
  wake(): void {
    this.loop?.wake();
  }

  private async tick(): Promise<void> {
    if (!this.db.connected || this.lifecycle.shuttingDown) return;
    this.passes.inc();
    await this.recoverExpiredLeases();
    const controls = await this.control.current();
    const blocked =
      (await this.gates.blockedBecause()) ??
      (controls.pausedFor ? `incident: dispatch paused (${controls.pausedFor})` : null);
    await this.db.system.query(
      `UPDATE payroll_control SET gate_reason = $1, gate_checked_at = now() WHERE id = 1 AND gate_reason IS DISTINCT FROM $1`,
      [blocked],
    );
    if (blocked) return;
    const [control] = (await this.db.system.query(`SELECT paused FROM payroll_control WHERE id = 1`)) as {
      paused: boolean;
    }[];
    if (control?.paused) return;
    const cap = Math.min(this.config.get('PAYROLL_MAX_CONCURRENT'), controls.concurrencyLimit ?? Infinity);
    for (;;) {
      const claimed = await this.claim(cap);
      if (!claimed) return;
      const done = this.executor.execute(claimed.id, claimed.org_id, this.lifecycle.instanceId).finally(() => {
        this.active.delete(claimed.id);
        this.wake();
      });
      this.active.set(claimed.id, done);
    }
  }

  /** Runs whose worker died: back to the queue (the lost attempt counts), slots freed. */
  private async recoverExpiredLeases(): Promise<void> {
    await this.requeueExpiredLeases();
    await releaseStaleSlots(this.db.system);
  }

  private async requeueExpiredLeases(): Promise<void> {
    const max = this.config.get('PAYROLL_MAX_ATTEMPTS');
    await this.db.system.transaction(async (m) => {
      const expired = (await m.query(
        `SELECT id, org_id, attempts FROM payroll_runs WHERE status = 'running' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED`,
      )) as { id: string; org_id: string; attempts: number }[];
      for (const r of expired) {
        const to = r.attempts + 1 >= max ? 'failed' : 'queued';
        await transition(
          m,
          { id: r.id, orgId: r.org_id, status: 'running' },
          to,
          this.actor,
          'lease expired: worker lost',
          { last_error: 'worker lost (lease expired)', finished_at: to === 'failed' ? new Date() : null },
          { attempts: 'attempts + 1' },
        );
      }
    });
  }

  /**
   * A slot, then a run. Only the first `cap` slots count, and only while fewer than `cap` runs
   * hold one: a lower cap (an incident's concurrency limit) lets the runs in flight finish and
   * starts none beyond it.
   */
  private async claim(cap: number): Promise<Claimed | null> {
    const lease = this.config.get('PAYROLL_LEASE_SECONDS');
    try {
      return await this.db.system.transaction(async (m) => {
        const [slot] = (await m.query(
          `SELECT slot_no FROM payroll_slots WHERE slot_no <= $1 AND run_id IS NULL
             AND (SELECT count(*) FROM payroll_slots WHERE run_id IS NOT NULL) < $1
           ORDER BY slot_no LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [cap],
        )) as { slot_no: number }[];
        if (!slot) return null;
        const [run] = (await m.query(
          `SELECT id, org_id FROM payroll_runs r
           WHERE status = 'queued' AND next_attempt_at <= now()
             AND NOT EXISTS (SELECT 1 FROM payroll_runs x WHERE x.org_id = r.org_id AND x.status = 'running')
           ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        )) as Claimed[];
        if (!run) return null;
        await transition(
          m,
          { id: run.id, orgId: run.org_id, status: 'queued' },
          'running',
          this.actor,
          `slot ${slot.slot_no}`,
          { lease_owner: this.lifecycle.instanceId, paused_reason: null },
          {
            lease_expires_at: `now() + make_interval(secs => ${Number(lease)})`,
            started_at: 'coalesce(started_at, now())',
          },
        );
        await m.query(`UPDATE payroll_slots SET run_id = $2, claimed_at = now() WHERE slot_no = $1`, [
          slot.slot_no,
          run.id,
        ]);
        return run;
      });
    } catch (err) {
      // Another worker started a run of the same org in the same instant: the unique index said no.
      if (
        (err as { driverError?: { constraint?: string } }).driverError?.constraint ===
        'payroll_runs_one_running_per_org'
      ) {
        return null;
      }
      throw err;
    }
  }

  /** Running runs stop at their next checkpoint (back to the queue) before pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
    await Promise.allSettled(this.active.values());
  }
}
