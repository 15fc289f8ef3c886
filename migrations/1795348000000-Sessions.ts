import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls } from '../libs/database/rls';

const TENANT_TABLES = ['call_agents', 'agent_sessions', 'agent_presence', 'agent_status_history', 'calls'];

/**
 * Call-center presence and routing. What the agent chose (agent_sessions.status), what the
 * system sees (agent_presence, written by heartbeats on a separate row so the router's row
 * locks never block them) and the work in hand (calls) are kept apart.
 */
export class Sessions1795348000000 implements MigrationInterface {
  name = 'Sessions1795348000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS call_agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        name text NOT NULL,
        external_ref text,
        max_concurrent_calls integer NOT NULL DEFAULT 1,
        wrap_up_seconds integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT call_agents_capacity_check CHECK (max_concurrent_calls BETWEEN 1 AND 50),
        CONSTRAINT call_agents_wrap_up_check CHECK (wrap_up_seconds BETWEEN 0 AND 3600)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS call_agents_org_created ON call_agents (org_id, created_at)`);
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS call_agents_org_external_ref ON call_agents (org_id, external_ref) WHERE external_ref IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS agent_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        agent_id uuid NOT NULL REFERENCES call_agents(id),
        login_at timestamptz NOT NULL DEFAULT now(),
        logout_at timestamptz,
        end_reason text,
        status text NOT NULL DEFAULT 'available',
        away_reason text,
        pending_status text,
        capacity integer NOT NULL,
        active_calls integer NOT NULL DEFAULT 0,
        current_call_id uuid,
        ready_at timestamptz NOT NULL DEFAULT now(),
        idle_since timestamptz NOT NULL DEFAULT now(),
        offer_cooldown_until timestamptz,
        stale_flagged_at timestamptz,
        CONSTRAINT agent_sessions_status_check CHECK (status IN ('available', 'away', 'offline')),
        CONSTRAINT agent_sessions_pending_check CHECK (pending_status IS NULL OR pending_status IN ('away', 'offline')),
        CONSTRAINT agent_sessions_calls_check CHECK (active_calls BETWEEN 0 AND capacity)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS agent_sessions_org_open ON agent_sessions (org_id, status) WHERE logout_at IS NULL`,
    );
    // One open session per agent: a new login closes the previous one first.
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS agent_sessions_one_open ON agent_sessions (agent_id) WHERE logout_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS agent_presence (
        session_id uuid PRIMARY KEY REFERENCES agent_sessions(id),
        org_id uuid NOT NULL,
        last_heartbeat timestamptz NOT NULL DEFAULT now(),
        device_connected boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS agent_presence_org ON agent_presence (org_id, last_heartbeat)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS agent_status_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        session_id uuid NOT NULL REFERENCES agent_sessions(id),
        agent_id uuid NOT NULL,
        from_status text,
        to_status text NOT NULL,
        actor text NOT NULL,
        reason text,
        at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT agent_status_history_actor_check CHECK (actor IN ('user', 'system'))
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS agent_status_history_org_session ON agent_status_history (org_id, session_id, at)`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        external_id text,
        from_number text NOT NULL,
        to_number text,
        status text NOT NULL DEFAULT 'queued',
        agent_id uuid,
        session_id uuid,
        reserved_until timestamptz,
        offer_count integer NOT NULL DEFAULT 0,
        last_missed_session_id uuid,
        queued_at timestamptz NOT NULL DEFAULT now(),
        assigned_at timestamptz,
        answered_at timestamptz,
        ended_at timestamptz,
        end_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT calls_status_check CHECK (status IN ('queued', 'ringing', 'in_progress', 'completed', 'abandoned', 'failed'))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS calls_org_external_id ON calls (org_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS calls_org_queue ON calls (org_id, queued_at, id) WHERE status = 'queued'`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS calls_session_live ON calls (session_id) WHERE status IN ('ringing', 'in_progress')`,
    );
    await q.query(`CREATE INDEX IF NOT EXISTS calls_org_created ON calls (org_id, created_at)`);

    for (const table of TENANT_TABLES) await enableTenantRls(q, table);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE agent_status_history FROM ${DB_ROLES.runtimeGroup}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TENANT_TABLES].reverse()) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
