import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Warnings about a run as a whole (not about one line or one driver), such as NO_TICKETS: a
 * period without tickets completes, but flagged, so a wrong period is not a quiet success.
 * Additive: an empty list for every existing run.
 */
export class PayrollRunWarnings1795353000000 implements MigrationInterface {
  name = 'PayrollRunWarnings1795353000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payroll_runs ADD COLUMN IF NOT EXISTS warnings jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payroll_runs DROP COLUMN IF EXISTS warnings`);
  }
}
