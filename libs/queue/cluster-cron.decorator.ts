import { SetMetadata } from '@nestjs/common';

export const CLUSTER_CRON = Symbol('CLUSTER_CRON');

export type CronSchedule =
  /** Fixed period; ticks are aligned to multiples of it since the epoch. */
  | { everyMs: number }
  /** Five-field cron expression evaluated in UTC, e.g. `0 4 * * *`. */
  | { cron: string };

export interface ClusterCronMetadata {
  name: string;
  /** Resolved when the worker starts so config (including test overrides) applies. */
  schedule: CronSchedule | ((config: import('../config').AppConfig) => CronSchedule);
}

/**
 * Runs the method once per tick across all worker replicas: every replica's timer tries to
 * insert (name, tick) into `cluster_cron_ticks`; the one insert that succeeds enqueues the tick
 * as a job, which any worker then runs (with pg-boss retries if it fails).
 */
export function ClusterCron(name: string, schedule: ClusterCronMetadata['schedule']): MethodDecorator {
  return SetMetadata<symbol, ClusterCronMetadata>(CLUSTER_CRON, { name, schedule });
}
