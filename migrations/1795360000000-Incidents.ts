import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls, restrictToSystem } from '../libs/database/rls';

/** Platform tables: written and read by the system role only (operators reach them by HTTP). */
const SYSTEM_TABLES = [
  'health_samples',
  'incident_rule_states',
  'incidents',
  'incident_events',
  'incident_actions',
  'ops_alert_channels',
];

/**
 * Health signals, detection state, incidents with their timeline and actions, and what each
 * incident means for each org. Incidents are platform data; `incident_impacts` is the one
 * tenant table: a tenant sees an incident only through its own impact row (RLS), which carries
 * the customer-safe fields. Payroll dispatch gains the time-bounded controls the incident
 * actions use (a pause and a concurrency limit that expire by themselves).
 */
export class Incidents1795360000000 implements MigrationInterface {
  name = 'Incidents1795360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS health_samples (
        id bigserial PRIMARY KEY,
        measured_at timestamptz NOT NULL DEFAULT now(),
        signal text NOT NULL,
        scope text NOT NULL,
        resource text NOT NULL DEFAULT '',
        process_id uuid,
        role text,
        host text,
        value double precision,
        unknown_reason text,
        CONSTRAINT health_samples_scope_check CHECK (scope IN ('process', 'host', 'cluster', 'org'))
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS health_samples_signal_at ON health_samples (signal, measured_at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS health_samples_at ON health_samples (measured_at)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS incident_rule_states (
        key text PRIMARY KEY,
        signal text NOT NULL,
        scope text NOT NULL,
        resource text NOT NULL DEFAULT '',
        level text NOT NULL DEFAULT 'ok',
        history text NOT NULL DEFAULT '',
        breached_since timestamptz,
        clear_since timestamptz,
        flapping boolean NOT NULL DEFAULT false,
        last_value double precision,
        incident_id uuid,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS incidents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dedup_key text NOT NULL,
        source text NOT NULL DEFAULT 'rule',
        signal text,
        scope text,
        resource text NOT NULL DEFAULT '',
        title text NOT NULL,
        summary text,
        severity text NOT NULL,
        category text NOT NULL,
        status text NOT NULL DEFAULT 'triage',
        level text,
        flapping boolean NOT NULL DEFAULT false,
        opened_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_at timestamptz,
        mitigated_at timestamptz,
        resolved_at timestamptz,
        closed_at timestamptz,
        cancelled_at timestamptz,
        first_value double precision,
        worst_value double precision,
        last_value double precision,
        orgs_affected integer NOT NULL DEFAULT 0,
        notified_at timestamptz,
        postmortem jsonb,
        lessons text,
        created_by text NOT NULL DEFAULT 'system',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT incidents_status_check CHECK (status IN ('triage', 'active', 'mitigated', 'resolved', 'closed', 'cancelled')),
        CONSTRAINT incidents_severity_check CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
        CONSTRAINT incidents_category_check CHECK (category IN ('capacity', 'availability', 'dependency', 'data_integrity', 'security'))
      )`);
    // One open incident per condition: after it resolves, a new condition opens a new one.
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_open_per_key ON incidents (dedup_key)
       WHERE status IN ('triage', 'active', 'mitigated')`,
    );
    await q.query(`CREATE INDEX IF NOT EXISTS incidents_created_id ON incidents (created_at, id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS incident_events (
        id bigserial PRIMARY KEY,
        incident_id uuid NOT NULL REFERENCES incidents(id),
        at timestamptz NOT NULL DEFAULT now(),
        kind text NOT NULL,
        actor text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS incident_events_incident ON incident_events (incident_id, id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS incident_actions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        incident_id uuid NOT NULL REFERENCES incidents(id),
        action text NOT NULL,
        params jsonb NOT NULL DEFAULT '{}',
        automatic boolean NOT NULL,
        status text NOT NULL DEFAULT 'applied',
        applied_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        reverted_at timestamptz,
        outcome jsonb,
        actor text NOT NULL,
        CONSTRAINT incident_actions_status_check CHECK (status IN ('applied', 'reverted', 'expired'))
      )`);
    // The breaker of each operator alert channel (by a hash of its URL: the URL may hold a token).
    await q.query(`
      CREATE TABLE IF NOT EXISTS ops_alert_channels (
        url_hash text PRIMARY KEY,
        breaker jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS incident_actions_incident ON incident_actions (incident_id)`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS incident_actions_live ON incident_actions (expires_at) WHERE status = 'applied'`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS incident_impacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        incident_id uuid NOT NULL REFERENCES incidents(id),
        title text NOT NULL,
        severity text NOT NULL,
        status text NOT NULL,
        features text[] NOT NULL DEFAULT '{}',
        counts jsonb NOT NULL DEFAULT '{}',
        updates jsonb NOT NULL DEFAULT '[]',
        started_at timestamptz NOT NULL,
        resolved_at timestamptz,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT incident_impacts_once UNIQUE (incident_id, org_id)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS incident_impacts_org_created_id ON incident_impacts (org_id, created_at, id)`,
    );
    await enableTenantRls(q, 'incident_impacts');
    // Tenants read their impact rows; only the system (the detector) writes them.
    await q.query(`REVOKE INSERT, UPDATE, DELETE ON TABLE incident_impacts FROM ${DB_ROLES.runtimeGroup}`);
    for (const table of SYSTEM_TABLES) await restrictToSystem(q, table);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE incident_events FROM ${DB_ROLES.systemGroup}`);

    // Time-bounded dispatch controls for incident actions: each lapses by itself at its time.
    await q.query(`ALTER TABLE payroll_control ADD COLUMN IF NOT EXISTS incident_pause_until timestamptz`);
    await q.query(`ALTER TABLE payroll_control ADD COLUMN IF NOT EXISTS incident_pause_reason text`);
    await q.query(`ALTER TABLE payroll_control ADD COLUMN IF NOT EXISTS concurrency_limit integer`);
    await q.query(`ALTER TABLE payroll_control ADD COLUMN IF NOT EXISTS concurrency_limit_until timestamptz`);
    await q.query(`ALTER TABLE payroll_control ADD COLUMN IF NOT EXISTS concurrency_limit_reason text`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of [
      'incident_pause_until',
      'incident_pause_reason',
      'concurrency_limit',
      'concurrency_limit_until',
      'concurrency_limit_reason',
    ]) {
      await q.query(`ALTER TABLE payroll_control DROP COLUMN IF EXISTS ${c}`);
    }
    for (const table of [
      'ops_alert_channels',
      'incident_impacts',
      'incident_actions',
      'incident_events',
      'incidents',
      'incident_rule_states',
      'health_samples',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
