import { QueryRunner } from 'typeorm';
import { DB_ROLES } from './database-roles';

/**
 * Puts a tenant table under row-level security: rows are visible and writable only when
 * `org_id` equals the transaction's `app.current_org`. FORCE makes it apply to the table
 * owner too; only a role with BYPASSRLS (the system role) sees across orgs.
 */
export async function enableTenantRls(runner: QueryRunner, table: string): Promise<void> {
  await runner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
  await runner.query(`ALTER TABLE "${table}" FORCE ROW LEVEL SECURITY`);
  await runner.query(`DROP POLICY IF EXISTS tenant_isolation ON "${table}"`);
  await runner.query(
    `CREATE POLICY tenant_isolation ON "${table}" USING (org_id = calmops_current_org()) WITH CHECK (org_id = calmops_current_org())`,
  );
}

/** System tables (no org_id) are not for the runtime role at all. */
export async function restrictToSystem(runner: QueryRunner, table: string): Promise<void> {
  await runner.query(`REVOKE ALL ON TABLE "${table}" FROM ${DB_ROLES.runtimeGroup}`);
}
