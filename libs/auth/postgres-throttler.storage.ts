import { BeforeApplicationShutdown, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { AppConfig } from '../config';
import { Clock } from '../core';
import { DatabaseService, returningRows } from '../database';
import { ClusterCron } from '../queue/cluster-cron.decorator';

/** One counter as this process knows it: the shared count at the last sync, plus what it counted since. */
interface Bucket {
  /** hits in PostgreSQL (all replicas) when this process last wrote or read the row. */
  shared: number;
  /** hits counted here and not yet written. */
  pending: number;
  /** end of the window, on this process' clock. */
  expiresAt: number;
  ttlMs: number;
}

interface SyncedRow {
  key: string;
  hits: number;
  remaining_ms: number;
}

const UPSERT = `
  INSERT INTO rate_limit_counters AS c (key, hits, expires_at)
  SELECT u.key, u.hits, clock_timestamp() + make_interval(secs => u.ttl_ms / 1000.0)
  FROM unnest($1::text[], $2::int[], $3::float8[]) AS u(key, hits, ttl_ms)
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.hits ELSE c.hits + EXCLUDED.hits END,
    expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at ELSE c.expires_at END
  RETURNING key, hits, greatest(0, extract(epoch FROM c.expires_at - clock_timestamp()) * 1000)::float8 AS remaining_ms`;

/**
 * Rate-limit counters shared by every replica, in an UNLOGGED table (a fixed window per key),
 * counted without a database round trip on the request path:
 * - the first request of a key in a window reads the shared count (an upsert adding 0);
 * - after that each request is counted in memory, and the counts of all keys are added to the
 *   table in one statement every RATE_LIMIT_FLUSH_MS (at most a second), which also brings back
 *   what the other replicas counted.
 * A request is refused when shared + pending exceeds the limit. One process counts exactly; with
 * several replicas the worst-case overshoot is what the other replicas admit between two flushes:
 * (replicas − 1) × the requests one replica admits in one flush window (test/e2e/rate-limit).
 */
@Injectable()
export class PostgresThrottlerStorage implements ThrottlerStorage, OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly buckets = new Map<string, Bucket>();
  private readonly loading = new Map<string, Promise<Bucket>>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** The last flush that had counts to write: when, and whether they were written. */
  private lastWrite?: { at: number; ok: boolean; error?: string };

  constructor(
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.startFlushing();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopFlushing();
    await this.flush();
  }

  /** Flushes every RATE_LIMIT_FLUSH_MS from now on. */
  startFlushing(): void {
    this.stopFlushing();
    this.timer = setInterval(() => void this.flush(), this.config.get('RATE_LIMIT_FLUSH_MS'));
    this.timer.unref();
  }

  /** Only explicit flush() calls write from now on (shutdown; tests that need a frozen window). */
  stopFlushing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether counts are shared with the other replicas on a timer, and how the last write went. */
  state(): { flushing: boolean; last_write?: { at: string; ok: boolean; error?: string }; keys: number } {
    const last = this.lastWrite;
    return {
      flushing: this.timer !== undefined,
      ...(last ? { last_write: { ...last, at: new Date(last.at).toISOString() } } : {}),
      keys: this.buckets.size,
    };
  }

  async increment(key: string, ttlMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.expiresAt <= this.clock.now()) bucket = await this.load(key, ttlMs);
    bucket.pending += 1;
    const hits = bucket.shared + bucket.pending;
    const ttl = Math.max(1, Math.ceil((bucket.expiresAt - this.clock.now()) / 1000));
    const blocked = hits > limit;
    return { totalHits: hits, timeToExpire: ttl, isBlocked: blocked, timeToBlockExpire: blocked ? ttl : 0 };
  }

  /**
   * Writes every pending count in one statement and takes back the shared totals. Counts that
   * cannot be written (database away) stay pending for the next flush.
   */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const now = this.clock.now();
    const batch: { key: string; bucket: Bucket; hits: number }[] = [];
    for (const [key, bucket] of this.buckets) {
      if (bucket.expiresAt <= now) this.buckets.delete(key);
      else if (bucket.pending > 0) batch.push({ key, bucket, hits: bucket.pending });
    }
    if (!batch.length || !this.db.connected) return;
    try {
      const rows = await this.sync(
        batch.map((b) => b.key),
        batch.map((b) => b.hits),
        batch.map((b) => b.bucket.ttlMs),
      );
      const byKey = new Map(rows.map((r) => [r.key, r]));
      for (const { key, bucket, hits } of batch) {
        const row = byKey.get(key);
        if (!row) continue;
        bucket.pending -= hits;
        bucket.shared = row.hits;
        bucket.expiresAt = this.clock.now() + row.remaining_ms;
      }
      this.lastWrite = { at: this.clock.now(), ok: true };
    } catch (err) {
      this.lastWrite = { at: this.clock.now(), ok: false, error: (err as Error).message };
      this.logger.warn(`rate-limit counts not written (kept for the next flush): ${(err as Error).message}`);
    }
  }

  /** The shared count of a key new to this process (or whose window ended); concurrent callers share one read. */
  private load(key: string, ttlMs: number): Promise<Bucket> {
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.sync([key], [0], [ttlMs])
        .then(([row]) => {
          const bucket: Bucket = {
            shared: row.hits,
            pending: 0,
            expiresAt: this.clock.now() + row.remaining_ms,
            ttlMs,
          };
          this.buckets.set(key, bucket);
          return bucket;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async sync(keys: string[], hits: number[], ttlMs: number[]): Promise<SyncedRow[]> {
    return (await this.db.system.query(UPSERT, [keys, hits, ttlMs])) as SyncedRow[];
  }
}

/** Expired counters are deleted in small batches so the table never locks for long. */
@Injectable()
export class RateLimitCounterPruner {
  constructor(private readonly db: DatabaseService) {}

  @ClusterCron('rate-limit-counters.prune', { everyMs: 5 * 60_000 })
  async prune(): Promise<{ removed: number }> {
    let removed = 0;
    for (;;) {
      const rows = await returningRows(
        this.db.system,
        `DELETE FROM rate_limit_counters WHERE key IN (
           SELECT key FROM rate_limit_counters WHERE expires_at < now() LIMIT 5000) RETURNING 1`,
      );
      removed += rows.length;
      if (rows.length < 5000) return { removed };
    }
  }
}

/** Provides the storage to both ThrottlerModule (which counts through it) and AuthModule. */
@Module({ providers: [PostgresThrottlerStorage], exports: [PostgresThrottlerStorage] })
export class RateLimitStorageModule {}
