import { MigrationInterface, QueryRunner } from 'typeorm';

const INDEX = 'webhook_deliveries_unfinished';

/**
 * Per-endpoint delivery pacing (`rate_limit_per_second`) and the index the redrive scans.
 * Additive only. The index is built CONCURRENTLY so a large webhook_deliveries keeps taking
 * writes while it builds, which is why this migration runs outside a transaction.
 */
export class WebhooksRateLimit1795350000000 implements MigrationInterface {
  name = 'WebhooksRateLimit1795350000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    // The next free send slot of a rate-limited endpoint (slots are 1/rate apart).
    await q.query(`ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS rate_next_slot_at timestamptz`);
    // The slot a delivery holds while it waits for it (never sent before it).
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS rate_slot_at timestamptz`);
    // An interrupted concurrent build leaves an invalid index behind: build it again.
    const invalid = (await q.query(
      `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid`,
      [INDEX],
    )) as unknown[];
    if (invalid.length) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${INDEX}`);
    // Only unfinished deliveries: small however long the history, and what the redrive reads.
    await q.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${INDEX} ON webhook_deliveries (status, next_attempt_at)
       WHERE status IN ('pending', 'deferred', 'delivering')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${INDEX}`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS rate_slot_at`);
    await q.query(`ALTER TABLE webhook_endpoints DROP COLUMN IF EXISTS rate_next_slot_at`);
  }
}
