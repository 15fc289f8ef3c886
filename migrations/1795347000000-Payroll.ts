import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls, restrictToSystem } from '../libs/database/rls';

const TENANT_TABLES = [
  'payroll_drivers',
  'payroll_tickets',
  'payroll_deductions',
  'payroll_runs',
  'payroll_run_lines',
  'payroll_statements',
  'payroll_deduction_applications',
  'payroll_run_events',
];

/** Drivers, tickets, deductions, runs with their lines and statements, and the dispatch slots. */
export class Payroll1795347000000 implements MigrationInterface {
  name = 'Payroll1795347000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_drivers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        name text NOT NULL,
        external_ref text,
        pay_type text NOT NULL,
        rate numeric(14,4),
        overtime_exempt boolean NOT NULL DEFAULT false,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payroll_drivers_pay_type_check
          CHECK (pay_type IN ('hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load')),
        CONSTRAINT payroll_drivers_rate_check CHECK (rate >= 0)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_drivers_org_created ON payroll_drivers (org_id, created_at)`);
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS payroll_drivers_org_external_ref ON payroll_drivers (org_id, external_ref) WHERE external_ref IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_tickets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        ticket_number text NOT NULL,
        driver_id uuid NOT NULL REFERENCES payroll_drivers(id),
        work_date date NOT NULL,
        hours numeric(12,3),
        tons numeric(12,3),
        yards numeric(12,3),
        loads numeric(12,3),
        revenue_cents bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payroll_tickets_quantities_check
          CHECK (hours >= 0 AND tons >= 0 AND yards >= 0 AND loads >= 0 AND revenue_cents >= 0)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_tickets_org_number ON payroll_tickets (org_id, ticket_number)`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_tickets_org_date ON payroll_tickets (org_id, work_date, id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_tickets_driver ON payroll_tickets (driver_id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_deductions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        driver_id uuid NOT NULL REFERENCES payroll_drivers(id),
        name text NOT NULL,
        kind text NOT NULL,
        amount_cents bigint,
        percent numeric(7,4),
        priority integer NOT NULL DEFAULT 100,
        max_total_cents bigint,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payroll_deductions_kind_check CHECK (
          (kind = 'fixed' AND amount_cents > 0 AND percent IS NULL) OR
          (kind = 'percent' AND percent > 0 AND percent <= 100 AND amount_cents IS NULL)),
        CONSTRAINT payroll_deductions_cap_check CHECK (max_total_cents > 0)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_deductions_org_driver ON payroll_deductions (org_id, driver_id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        pay_period_start date NOT NULL,
        pay_period_end date NOT NULL,
        status text NOT NULL DEFAULT 'queued',
        idempotency_key text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        phase text NOT NULL DEFAULT 'tickets',
        cursor_work_date date,
        cursor_ticket_id uuid,
        cursor_driver_id uuid,
        processed_tickets integer NOT NULL DEFAULT 0,
        total_tickets integer NOT NULL DEFAULT 0,
        pause_requested boolean NOT NULL DEFAULT false,
        cancel_requested boolean NOT NULL DEFAULT false,
        paused_reason text,
        lease_owner uuid,
        lease_expires_at timestamptz,
        queued_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        gross_cents bigint NOT NULL DEFAULT 0,
        deductions_cents bigint NOT NULL DEFAULT 0,
        net_cents bigint NOT NULL DEFAULT 0,
        held_cents bigint NOT NULL DEFAULT 0,
        flags_blocking integer NOT NULL DEFAULT 0,
        flags_warning integer NOT NULL DEFAULT 0,
        superseded_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT payroll_runs_status_check CHECK (status IN
          ('queued', 'running', 'paused', 'completed', 'completed_with_flags', 'failed', 'cancelled', 'superseded')),
        CONSTRAINT payroll_runs_period_check CHECK (pay_period_end >= pay_period_start AND pay_period_end - pay_period_start <= 30)
      )`);
    // The database, not process memory, guarantees one running run per org and one live run per period.
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS payroll_runs_one_running_per_org ON payroll_runs (org_id) WHERE status = 'running'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS payroll_runs_one_live_per_period ON payroll_runs (org_id, pay_period_start, pay_period_end) WHERE status IN ('queued', 'running', 'paused')`,
    );
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS payroll_runs_idempotency ON payroll_runs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS payroll_runs_dispatch ON payroll_runs (queued_at, id) WHERE status = 'queued'`,
    );
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_runs_org_created ON payroll_runs (org_id, created_at)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_run_lines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES payroll_runs(id),
        driver_id uuid NOT NULL,
        line_key text NOT NULL,
        kind text NOT NULL,
        ticket_id uuid,
        ticket_number text,
        work_date date,
        quantity numeric(14,3),
        unit text,
        ticket_hours numeric(12,3),
        rate numeric(16,6),
        amount_cents bigint NOT NULL,
        held boolean NOT NULL,
        flags jsonb NOT NULL DEFAULT '[]',
        CONSTRAINT payroll_run_lines_once UNIQUE (run_id, line_key, kind)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_run_lines_org ON payroll_run_lines (org_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_run_lines_run_driver ON payroll_run_lines (run_id, driver_id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_statements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES payroll_runs(id),
        driver_id uuid NOT NULL,
        gross_cents bigint NOT NULL,
        held_cents bigint NOT NULL,
        deductions_cents bigint NOT NULL,
        net_cents bigint NOT NULL,
        flags jsonb NOT NULL DEFAULT '[]',
        CONSTRAINT payroll_statements_once UNIQUE (run_id, driver_id)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_statements_org ON payroll_statements (org_id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_deduction_applications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES payroll_runs(id),
        driver_id uuid NOT NULL,
        deduction_id uuid NOT NULL,
        name text NOT NULL,
        wanted_cents bigint NOT NULL,
        capped_cents bigint NOT NULL,
        applied_cents bigint NOT NULL,
        shortfall_cents bigint NOT NULL,
        CONSTRAINT payroll_deduction_applications_once UNIQUE (run_id, deduction_id)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS payroll_deduction_applications_org ON payroll_deduction_applications (org_id, deduction_id)`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_run_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES payroll_runs(id),
        from_status text,
        to_status text NOT NULL,
        actor text NOT NULL,
        reason text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS payroll_run_events_org_run ON payroll_run_events (org_id, run_id, at)`);

    for (const table of TENANT_TABLES) await enableTenantRls(q, table);
    // History is appended, never rewritten.
    await q.query(`REVOKE UPDATE, DELETE ON TABLE payroll_run_events FROM ${DB_ROLES.runtimeGroup}`);

    // Dispatch slots: PAYROLL_MAX_CONCURRENT rows are used; a run is 'running' only while it
    // holds one (claimed FOR UPDATE SKIP LOCKED), so the global cap holds across processes.
    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_slots (
        slot_no integer PRIMARY KEY,
        run_id uuid,
        claimed_at timestamptz
      )`);
    await q.query(`INSERT INTO payroll_slots (slot_no) SELECT generate_series(1, 64) ON CONFLICT DO NOTHING`);
    await restrictToSystem(q, 'payroll_slots');
    await q.query(`
      CREATE TABLE IF NOT EXISTS payroll_control (
        id integer PRIMARY KEY CHECK (id = 1),
        paused boolean NOT NULL DEFAULT false,
        reason text,
        changed_at timestamptz NOT NULL DEFAULT now(),
        gate_reason text,
        gate_checked_at timestamptz
      )`);
    await q.query(`INSERT INTO payroll_control (id) VALUES (1) ON CONFLICT DO NOTHING`);
    await restrictToSystem(q, 'payroll_control');
    await q.query(`
      CREATE OR REPLACE FUNCTION payroll_runs_notify() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('calmops_payroll_runs', ''); RETURN NULL; END $$`);
    await q.query(`DROP TRIGGER IF EXISTS payroll_runs_notify ON payroll_runs`);
    await q.query(
      `CREATE TRIGGER payroll_runs_notify AFTER INSERT OR UPDATE OF status ON payroll_runs FOR EACH STATEMENT EXECUTE FUNCTION payroll_runs_notify()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['payroll_control', 'payroll_slots', ...[...TENANT_TABLES].reverse()]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS payroll_runs_notify()`);
  }
}
