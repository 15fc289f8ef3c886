import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls, restrictToSystem } from '../libs/database/rls';

/** Organizations, API keys (org and platform) and the shared rate-limit counters. */
export class Identity1795346000000 implements MigrationInterface {
  name = 'Identity1795346000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS orgs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        plan text NOT NULL DEFAULT 'free',
        CONSTRAINT orgs_plan_check CHECK (plan IN ('free', 'pro', 'enterprise')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // An org sees only its own row; orgs are created by platform admins via the system role.
    await q.query(`ALTER TABLE orgs ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE orgs FORCE ROW LEVEL SECURITY`);
    await q.query(`DROP POLICY IF EXISTS tenant_isolation ON orgs`);
    await q.query(
      `CREATE POLICY tenant_isolation ON orgs USING (id = calmops_current_org()) WITH CHECK (id = calmops_current_org())`,
    );
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON TABLE orgs FROM ${DB_ROLES.runtimeGroup}`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        name text NOT NULL,
        prefix text NOT NULL,
        last4 text NOT NULL,
        key_hash text NOT NULL,
        scopes text[] NOT NULL,
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT api_keys_key_hash_unique UNIQUE (key_hash)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS api_keys_org_created ON api_keys (org_id, created_at)`);
    await enableTenantRls(q, 'api_keys');
    // Keys are revoked, never deleted: the row is the record of who could call with it.
    await q.query(`REVOKE DELETE ON TABLE api_keys FROM ${DB_ROLES.runtimeGroup}`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS platform_api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        prefix text NOT NULL,
        last4 text NOT NULL,
        key_hash text NOT NULL,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT platform_api_keys_key_hash_unique UNIQUE (key_hash)
      )`);
    await restrictToSystem(q, 'platform_api_keys');

    // UNLOGGED: counters are worth little after a crash and must be cheap to write.
    await q.query(`
      CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_counters (
        key text PRIMARY KEY,
        hits integer NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS rate_limit_counters_expires ON rate_limit_counters (expires_at)`);
    await restrictToSystem(q, 'rate_limit_counters');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS rate_limit_counters`);
    await q.query(`DROP TABLE IF EXISTS platform_api_keys`);
    await q.query(`DROP TABLE IF EXISTS api_keys`);
    await q.query(`DROP TABLE IF EXISTS orgs`);
  }
}
