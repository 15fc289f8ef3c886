import { Inject, Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { APP_ROLE, AppConfig, appVersion } from '../config';
import type { AppRole } from '../config';
import { DatabaseService } from '../database';
import { ClusterCron } from '../queue/cluster-cron.decorator';
import { LifecycleService } from '../core';
import { WorkerHeartbeat } from './worker-heartbeat.entity';

/**
 * Every api/worker process keeps one row in `worker_heartbeats` fresh, so others can tell
 * which workers are alive (a row older than a few intervals belongs to a dead process).
 * Written through the system connection: heartbeats belong to no tenant.
 */
@Injectable()
export class WorkerHeartbeatService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Heartbeat');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: DatabaseService,
    private readonly lifecycle: LifecycleService,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  onApplicationBootstrap(): void {
    if (this.role === 'task') return;
    const beat = () => void this.beat().catch((err) => this.logger.warn(`heartbeat failed: ${(err as Error).message}`));
    this.db
      .whenConnected()
      .then(beat)
      .catch(() => undefined);
    this.timer = setInterval(beat, this.config.get('WORKER_HEARTBEAT_INTERVAL_MS'));
    this.timer.unref();
  }

  async beat(): Promise<void> {
    if (!this.db.connected) return;
    await this.db.system
      .createQueryBuilder()
      .insert()
      .into(WorkerHeartbeat)
      .values({
        id: this.lifecycle.instanceId,
        pid: process.pid,
        role: this.role,
        host: hostname(),
        version: appVersion(),
        startedAt: this.lifecycle.startedAt,
        lastSeenAt: () => 'now()',
      })
      .orUpdate(['last_seen_at'], ['id'])
      .execute();
  }

  /** Rows of processes that died without a clean shutdown are removed after a while. */
  @ClusterCron('worker-heartbeats.prune', (config) => ({
    everyMs: Math.max(1000, config.get('WORKER_HEARTBEAT_INTERVAL_MS') * 6),
  }))
  async pruneDeadProcesses(): Promise<{ removed: number }> {
    const staleAfterMs = this.config.get('WORKER_HEARTBEAT_INTERVAL_MS') * 30;
    const result = await this.db.system
      .createQueryBuilder()
      .delete()
      .from(WorkerHeartbeat)
      .where(`last_seen_at < now() - make_interval(secs => :secs)`, { secs: staleAfterMs / 1000 })
      .execute();
    return { removed: result.affected ?? 0 };
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.db.connected || this.role === 'task') return;
    await this.db.system
      .getRepository(WorkerHeartbeat)
      .delete({ id: this.lifecycle.instanceId })
      .catch((err) => this.logger.warn(`could not remove heartbeat row: ${(err as Error).message}`));
  }
}
