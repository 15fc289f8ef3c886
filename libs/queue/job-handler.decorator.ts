import { SetMetadata } from '@nestjs/common';
import type PgBoss from 'pg-boss';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

export interface QueueOptions {
  /** pg-boss queue options: retries, expiry, retention, policy, dead letter. */
  queue?: Omit<PgBoss.Queue, 'name'>;
  /** Concurrent fetch loops of this queue per worker process. */
  workers?: number;
  /** Jobs fetched per loop iteration (each is still handled one at a time). */
  batchSize?: number;
}

export interface JobHandlerMetadata extends QueueOptions {
  queueName: string;
}

/**
 * Declares a queue (once, with its options) and marks the method that consumes it. Queues are
 * created in every role so the api can send; the method is registered with pg-boss only in
 * the worker roles. Handlers must be idempotent: pg-boss may deliver a job twice.
 */
export function JobHandler(queueName: string, options: QueueOptions = {}): MethodDecorator {
  return SetMetadata<symbol, JobHandlerMetadata>(JOB_HANDLER, { queueName, ...options });
}

export interface JobContext {
  id: string;
  queue: string;
  /** 0 on the first try. */
  retryCount: number;
}

export type JobHandlerFn<T = unknown> = (data: T, job: JobContext) => Promise<unknown>;

/** A whole fetched batch at once (see QueueConsumer): each job's data with its context. */
export type BatchHandlerFn<T = unknown> = (jobs: { data: T; job: JobContext }[]) => Promise<unknown>;
