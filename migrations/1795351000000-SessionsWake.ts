import { MigrationInterface, QueryRunner } from 'typeorm';

const INDEX = 'agent_sessions_wake_at';

/**
 * When time alone makes a call-center session routable again (wrap-up over, missed-offer
 * cooldown over), queued calls must be offered then, not at the next unrelated event.
 * `wake_at` holds that moment; a trigger keeps it in step with `ready_at` and
 * `offer_cooldown_until` whichever code path writes them, and the worker's wake loop claims
 * due rows (clearing `wake_at` in the transaction that offers the org's queued calls).
 * Additive only; the partial index is built CONCURRENTLY, so this runs outside a transaction.
 */
export class SessionsWake1795351000000 implements MigrationInterface {
  name = 'SessionsWake1795351000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agent_sessions ADD COLUMN IF NOT EXISTS wake_at timestamptz`);
    await q.query(`
      CREATE OR REPLACE FUNCTION agent_sessions_set_wake_at() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        routable_from timestamptz := greatest(NEW.ready_at, coalesce(NEW.offer_cooldown_until, NEW.ready_at));
      BEGIN
        -- Only a moment still ahead needs a wake: one already past was offered by the writer.
        NEW.wake_at := CASE WHEN routable_from > now() THEN routable_from END;
        RETURN NEW;
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS agent_sessions_wake_at ON agent_sessions`);
    await q.query(`
      CREATE TRIGGER agent_sessions_wake_at BEFORE UPDATE OF ready_at, offer_cooldown_until ON agent_sessions
      FOR EACH ROW WHEN (NEW.ready_at IS DISTINCT FROM OLD.ready_at
        OR NEW.offer_cooldown_until IS DISTINCT FROM OLD.offer_cooldown_until)
      EXECUTE FUNCTION agent_sessions_set_wake_at()`);
    const invalid = (await q.query(
      `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid`,
      [INDEX],
    )) as unknown[];
    if (invalid.length) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${INDEX}`);
    // Only sessions waiting for a wake: tiny, and all the wake loop reads.
    await q.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${INDEX} ON agent_sessions (wake_at) WHERE wake_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${INDEX}`);
    await q.query(`DROP TRIGGER IF EXISTS agent_sessions_wake_at ON agent_sessions`);
    await q.query(`DROP FUNCTION IF EXISTS agent_sessions_set_wake_at()`);
    await q.query(`ALTER TABLE agent_sessions DROP COLUMN IF EXISTS wake_at`);
  }
}
