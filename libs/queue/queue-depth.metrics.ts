import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Clock } from '../core';
import { DatabaseService } from '../database';
import { MetricsService } from '../observability';
import { QUEUE_SCHEMA } from './queue-schema';

/** One measurement serves the scrapes of this long (several Prometheus replicas, or a burst). */
export const QUEUE_DEPTH_CACHE_MS = 5000;

export interface QueueDepth {
  name: string;
  /** Jobs due and not started (created or retry, start_after passed). */
  due: number;
  /** Jobs being worked on. */
  active: number;
  /** Age of the oldest due job; 0 when none is due. */
  oldest_due_seconds: number;
}

/**
 * The queues' depth as Prometheus gauges, measured at scrape time across the cluster: jobs due
 * and not started, and the age of the oldest, per queue. Every process exports the same
 * cluster-wide values (aggregate with max); the worker HorizontalPodAutoscaler scales on
 * `queue_due_jobs` (docker/k8s/worker-hpa.yaml). A queue with nothing due is exported as 0.
 */
@Injectable()
export class QueueDepthMetrics {
  private readonly logger = new Logger('QueueDepth');
  private cached?: { at: number; rows: Promise<QueueDepth[]> };

  constructor(
    metrics: MetricsService,
    private readonly db: DatabaseService,
    private readonly clock: Clock,
  ) {
    const gauges: { name: string; help: string; value: (d: QueueDepth) => number }[] = [
      {
        name: 'queue_due_jobs',
        help: 'Jobs due and not started, per queue, across the cluster (the worker autoscaling signal).',
        value: (d) => d.due,
      },
      {
        name: 'queue_oldest_due_seconds',
        help: 'Age of the oldest job due and not started, per queue, across the cluster.',
        value: (d) => d.oldest_due_seconds,
      },
    ];
    const depth = () => this.depth();
    for (const g of gauges) {
      new Gauge({
        name: g.name,
        help: g.help,
        labelNames: ['queue'] as const,
        registers: [metrics.registry],
        async collect() {
          this.reset();
          for (const d of await depth()) this.set({ queue: d.name }, g.value(d));
        },
      });
    }
  }

  /** The depth of every queue, cached QUEUE_DEPTH_CACHE_MS; nothing while the database is away. */
  depth(): Promise<QueueDepth[]> {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at >= QUEUE_DEPTH_CACHE_MS) {
      const rows = this.db.connected
        ? this.measure().catch((err: Error) => {
            this.logger.warn(`queue depth not measured: ${err.message}`);
            return [];
          })
        : Promise.resolve([]);
      this.cached = { at: now, rows };
    }
    return this.cached.rows;
  }

  /** The depth of every queue now, across the cluster (one statement; throws when it cannot be read). */
  async measure(): Promise<QueueDepth[]> {
    const rows = (await this.db.system.query(
      `SELECT q.name,
              count(j.id) FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after <= now())::int AS due,
              count(j.id) FILTER (WHERE j.state = 'active')::int AS active,
              coalesce(extract(epoch FROM now() - min(j.start_after)
                FILTER (WHERE j.state IN ('created', 'retry') AND j.start_after <= now())), 0)::float8 AS oldest_due_seconds
       FROM ${QUEUE_SCHEMA}.queue q
       LEFT JOIN ${QUEUE_SCHEMA}.job j ON j.name = q.name AND j.state IN ('created', 'retry', 'active')
       GROUP BY q.name ORDER BY q.name`,
    )) as QueueDepth[];
    return rows.map((r) => ({ ...r, oldest_due_seconds: Math.max(0, Number(r.oldest_due_seconds)) }));
  }
}
