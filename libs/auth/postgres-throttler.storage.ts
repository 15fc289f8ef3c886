import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { DatabaseService, returningRows } from '../database';
import { ClusterCron } from '../queue/cluster-cron.decorator';

/**
 * Rate-limit counters shared by every replica: one atomic upsert per request on an UNLOGGED
 * table (a fixed window per key), pruned by a cluster cron.
 */
@Injectable()
export class PostgresThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly db: DatabaseService) {}

  async increment(key: string, ttlMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    const rows = (await this.db.system.query(
      `INSERT INTO rate_limit_counters AS c (key, hits, expires_at)
       VALUES ($1, 1, clock_timestamp() + make_interval(secs => $2 / 1000.0))
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.expires_at <= clock_timestamp() THEN 1 ELSE c.hits + 1 END,
         expires_at = CASE WHEN c.expires_at <= clock_timestamp()
                           THEN clock_timestamp() + make_interval(secs => $2 / 1000.0) ELSE c.expires_at END
       RETURNING hits, greatest(1, ceil(extract(epoch FROM c.expires_at - clock_timestamp())))::int AS ttl`,
      [key, ttlMs],
    )) as { hits: number; ttl: number }[];
    const { hits, ttl } = rows[0];
    const blocked = hits > limit;
    return { totalHits: hits, timeToExpire: ttl, isBlocked: blocked, timeToBlockExpire: blocked ? ttl : 0 };
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
