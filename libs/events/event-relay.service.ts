import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { APP_ROLE, AppConfig, runsJobs } from '../config';
import type { AppRole } from '../config';
import { DatabaseService, WakeLoop } from '../database';
import { QueueService, transactionExecutor } from '../queue';
import { DomainEvent } from './domain-event';
import { DomainEventBatch, EventSubscriptions } from './event-subscriptions.service';

const BATCH = 200;

interface OutboxRow {
  id: string;
  org_id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: Date;
}

/**
 * Moves committed outbox rows to their subscribers' queues (worker roles only). Enqueueing and
 * marking the row relayed happen in one transaction, so each event reaches each subscriber
 * queue exactly once. Woken by NOTIFY at commit, with polling as the fallback.
 */
@Injectable()
export class EventRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventRelay');
  private loop?: WakeLoop;

  constructor(
    private readonly db: DatabaseService,
    private readonly queue: QueueService,
    private readonly subscriptions: EventSubscriptions,
    private readonly config: AppConfig,
    @Inject(APP_ROLE) private readonly role: AppRole,
  ) {}

  onApplicationBootstrap(): void {
    if (!runsJobs(this.role)) return;
    this.loop = new WakeLoop({
      connectionString: this.config.sessionUrl!,
      channel: 'calmops_domain_events',
      applicationName: 'calmops:event-relay',
      intervalMs: this.config.get('EVENTS_RELAY_INTERVAL_MS'),
      pass: () => this.drain(),
      onError: (err) => this.logger.warn(`relay: ${err.message}`),
    });
    this.loop.start(this.db.whenConnected());
  }

  /** Runs one relay pass now, or right after the current one. */
  wake(): void {
    this.loop?.wake();
  }

  /** Relays until the outbox is empty; returns the number of events relayed. */
  async drain(): Promise<number> {
    if (!this.db.connected || this.queue.state !== 'started') return 0;
    let total = 0;
    for (;;) {
      const n = await this.relayBatch();
      total += n;
      if (n < BATCH || this.loop?.stopping) return total;
    }
  }

  private async relayBatch(): Promise<number> {
    const perQueue = new Map<string, number>();
    const relayed = await this.db.system.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT id, org_id, type, data, created_at FROM domain_events
         WHERE relayed_at IS NULL ORDER BY created_at, id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      )) as OutboxRow[];
      if (!rows.length) return 0;
      const jobs: PgBoss.JobInsert[] = [];
      // A batched subscriber gets one job for all of this batch's events it subscribes to.
      const batches = new Map<string, DomainEvent[]>();
      for (const row of rows) {
        const event: DomainEvent = {
          id: row.id,
          type: row.type,
          org_id: row.org_id,
          created_at: row.created_at.toISOString(),
          data: row.data,
        };
        for (const name of this.subscriptions.queuesFor(row.type)) {
          if (this.subscriptions.isBatched(name)) {
            const batch = batches.get(name);
            if (batch) batch.push(event);
            else batches.set(name, [event]);
            continue;
          }
          jobs.push({ name, data: event });
          perQueue.set(name, (perQueue.get(name) ?? 0) + 1);
        }
      }
      for (const [name, events] of batches) {
        const data: DomainEventBatch = { events };
        jobs.push({ name, data });
        perQueue.set(name, (perQueue.get(name) ?? 0) + 1);
      }
      // All or nothing: an event is marked relayed only with every subscriber's job inserted.
      await this.queue.insertAll(jobs, { db: transactionExecutor(manager) });
      await manager.query(`UPDATE domain_events SET relayed_at = now() WHERE id = ANY($1::uuid[])`, [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
    // Committed: this process' idle subscribers take the jobs now.
    for (const [name, count] of perQueue) this.queue.wake(name, count);
    return relayed;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }
}
