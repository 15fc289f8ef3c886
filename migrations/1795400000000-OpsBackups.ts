import { MigrationInterface, QueryRunner } from 'typeorm';
import { restrictToSystem } from '../libs/database/rls';

/**
 * Backups reported by the operator (POST /api/ops/backups), so the readiness report can show the
 * age of the newest one. A platform table: no org, not for the runtime role.
 */
export class OpsBackups1795400000000 implements MigrationInterface {
  name = 'OpsBackups1795400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS ops_backups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        completed_at timestamptz NOT NULL,
        target text NOT NULL,
        method text,
        size_bytes bigint,
        note text,
        reported_by text NOT NULL,
        reported_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ops_backups_size_check CHECK (size_bytes IS NULL OR size_bytes >= 0)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ops_backups_completed_at ON ops_backups (completed_at)`);
    await restrictToSystem(q, 'ops_backups');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS ops_backups`);
  }
}
