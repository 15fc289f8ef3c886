import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_ROLE, AppConfig, runsJobs } from '../../../libs/config';
import type { AppRole } from '../../../libs/config';
import { LifecycleService } from '../../../libs/core';
import { DatabaseService, returningRows, TenantContext, WakeLoop } from '../../../libs/database';
import { CallRouter } from '../call-router.service';

/**
 * Offers queued calls when time alone makes an agent routable again: wrap-up over, or a
 * missed-offer cooldown over. Nothing else happens at that moment (no request, no heartbeat
 * that changes presence), so without this a call queued meanwhile would wait for the next
 * unrelated event. `agent_sessions.wake_at` holds the moment (a trigger keeps it in step);
 * every SESSION_WAKE_INTERVAL_MS each worker looks for due rows. Per org, clearing the due
 * rows and offering the queued calls commit together, and rows are claimed FOR UPDATE SKIP
 * LOCKED: of any number of worker replicas, one handles each wake-up, exactly once.
 */
@Injectable()
export class SessionWake implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SessionWake');
  private loop?: WakeLoop;

  constructor(
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
    private readonly router: CallRouter,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsJobs(this.role)) return;
    this.loop = new WakeLoop({
      intervalMs: this.config.get('SESSION_WAKE_INTERVAL_MS'),
      pass: () => this.pass(),
      onError: (err) => this.logger.warn(`session wake: ${err.message}`),
    });
    this.loop.start(this.db.whenConnected());
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass over every org with a due wake-up; returns the calls offered. */
  async pass(): Promise<number> {
    if (!this.db.connected || this.lifecycle.shuttingDown) return 0;
    const due = (await this.db.system.query(`SELECT DISTINCT org_id FROM agent_sessions WHERE wake_at <= now()`)) as {
      org_id: string;
    }[];
    let offered = 0;
    for (const { org_id: orgId } of due) {
      offered += await this.tenant.run(orgId, () => this.wakeOrg(orgId));
    }
    return offered;
  }

  /** Inside the org's tenant transaction: claims its due wake-ups, then offers its queue. */
  private async wakeOrg(orgId: string): Promise<number> {
    const woken = await returningRows<{ id: string }>(
      this.tenant.manager,
      `UPDATE agent_sessions SET wake_at = NULL WHERE id IN (
         SELECT id FROM agent_sessions WHERE org_id = $1 AND wake_at <= now() FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [orgId],
    );
    if (!woken.length) return 0;
    const offered = await this.router.offerQueuedIn();
    if (offered) this.logger.log({ org_id: orgId, sessions: woken.length, offered }, 'queued calls offered on wake-up');
    return offered;
  }
}
