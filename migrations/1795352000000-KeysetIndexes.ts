import { MigrationInterface, QueryRunner } from 'typeorm';

/** Newest-first lists and the index that serves their keyset pages. */
const LISTS: { table: string; replaces?: string }[] = [
  { table: 'api_keys', replaces: 'api_keys_org_created' },
  { table: 'call_agents', replaces: 'call_agents_org_created' },
  { table: 'webhook_endpoints', replaces: 'webhook_endpoints_org_created' },
  { table: 'webhook_sources', replaces: 'webhook_sources_org_created' },
  { table: 'payroll_drivers', replaces: 'payroll_drivers_org_created' },
  { table: 'payroll_runs', replaces: 'payroll_runs_org_created' },
  { table: 'payroll_deductions' },
];

/**
 * Keyset pages order by (created_at, id) within an org: an index on exactly those columns
 * serves a page by reading only its rows, where (org_id, created_at) alone made PostgreSQL
 * sort every row of the same created_at, and no index at all (deductions) sorted the org's
 * rows. Built CONCURRENTLY (writes go on meanwhile), so outside a transaction; the narrower
 * index each one supersedes is dropped after it.
 */
export class KeysetIndexes1795352000000 implements MigrationInterface {
  name = 'KeysetIndexes1795352000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const { table, replaces } of LISTS) {
      const index = `${table}_org_created_id`;
      const invalid = (await q.query(
        `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND NOT i.indisvalid`,
        [index],
      )) as unknown[];
      if (invalid.length) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`);
      await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${index} ON ${table} (org_id, created_at, id)`);
      if (replaces) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${replaces}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, replaces } of LISTS) {
      if (replaces)
        await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${replaces} ON ${table} (org_id, created_at)`);
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${table}_org_created_id`);
    }
  }
}
