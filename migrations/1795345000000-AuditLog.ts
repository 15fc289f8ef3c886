import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls } from '../libs/database/rls';

const { runtimeGroup, systemGroup } = DB_ROLES;

/**
 * The tamper-evident audit log: one hash chain per org (seq 1, 2, 3…, each row's hash covers the
 * previous row's hash). Neither application role may change or remove a row, and a trigger
 * refuses it even to the owner, so tampering takes a deliberate `DISABLE TRIGGER` by the owner,
 * which the chain verification (`task audit-verify`) then exposes.
 */
export class AuditLog1795345000000 implements MigrationInterface {
  name = 'AuditLog1795345000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        seq bigint NOT NULL,
        at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        target_type text,
        target_id text,
        data jsonb NOT NULL DEFAULT '{}',
        request_id text,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        CONSTRAINT audit_events_org_seq UNIQUE (org_id, seq),
        CONSTRAINT audit_events_actor_type CHECK (actor_type IN ('user', 'api_key', 'platform_key', 'system'))
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS audit_events_org_at ON audit_events (org_id, at)`);
    await enableTenantRls(q, 'audit_events');

    // The default privileges of the Foundation migration grant UPDATE and DELETE; an append-only
    // log takes them back from both application roles.
    await q.query(`REVOKE UPDATE, DELETE, TRUNCATE ON TABLE audit_events FROM ${runtimeGroup}, ${systemGroup}`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    // Row triggers do not fire for TRUNCATE.
    await q.query(`DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_events`);
    await q.query(`DROP FUNCTION IF EXISTS audit_events_append_only()`);
  }
}
