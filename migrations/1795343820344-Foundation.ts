import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls, restrictToSystem } from '../libs/database/rls';

const { runtimeGroup, systemGroup } = DB_ROLES;

/**
 * Privileges, the tenant-context function, process heartbeats, the domain-event outbox and
 * the cluster cron tick table.
 */
export class Foundation1795343820344 implements MigrationInterface {
  name = 'Foundation1795343820344';

  async up(q: QueryRunner): Promise<void> {
    // Group roles the login roles join. Creating them needs CREATEROLE; where the owner lacks
    // it, a DBA creates them first (see README, "Database roles").
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${runtimeGroup}') THEN
          CREATE ROLE ${runtimeGroup} NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${systemGroup}') THEN
          CREATE ROLE ${systemGroup} NOLOGIN;
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO ${runtimeGroup}, ${systemGroup}`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${runtimeGroup}, ${systemGroup}`,
    );
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${runtimeGroup}, ${systemGroup}`,
    );
    await q.query(`GRANT SELECT ON TABLE migrations TO ${runtimeGroup}, ${systemGroup}`);

    await q.query(`
      CREATE OR REPLACE FUNCTION calmops_current_org() RETURNS uuid
      LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('app.current_org', true), '')::uuid $$`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS worker_heartbeats (
        id uuid PRIMARY KEY,
        pid integer NOT NULL,
        role text NOT NULL,
        host text NOT NULL,
        version text NOT NULL,
        started_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS worker_heartbeats_role_last_seen ON worker_heartbeats (role, last_seen_at)`,
    );
    await restrictToSystem(q, 'worker_heartbeats');

    await q.query(`
      CREATE TABLE IF NOT EXISTS domain_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        relayed_at timestamptz
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS domain_events_org_created ON domain_events (org_id, created_at)`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS domain_events_unrelayed ON domain_events (created_at) WHERE relayed_at IS NULL`,
    );
    await enableTenantRls(q, 'domain_events');
    // Requests append events; only the relay (system role) marks them relayed.
    await q.query(`REVOKE UPDATE, DELETE ON TABLE domain_events FROM ${runtimeGroup}`);
    // Wakes the relay at commit time instead of waiting for its next poll.
    await q.query(`
      CREATE OR REPLACE FUNCTION domain_events_notify() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('calmops_domain_events', ''); RETURN NULL; END $$`);
    await q.query(`DROP TRIGGER IF EXISTS domain_events_notify ON domain_events`);
    await q.query(
      `CREATE TRIGGER domain_events_notify AFTER INSERT ON domain_events FOR EACH STATEMENT EXECUTE FUNCTION domain_events_notify()`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS cluster_cron_ticks (
        name text NOT NULL,
        tick_at timestamptz NOT NULL,
        fired_at timestamptz NOT NULL DEFAULT now(),
        fired_by uuid NOT NULL,
        PRIMARY KEY (name, tick_at)
      )`);
    await restrictToSystem(q, 'cluster_cron_ticks');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS cluster_cron_ticks`);
    await q.query(`DROP TABLE IF EXISTS domain_events`);
    await q.query(`DROP FUNCTION IF EXISTS domain_events_notify()`);
    await q.query(`DROP TABLE IF EXISTS worker_heartbeats`);
    await q.query(`DROP FUNCTION IF EXISTS calmops_current_org()`);
  }
}
