import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls } from '../libs/database/rls';

/**
 * Multi-agent workflows: a run (pattern, agents, input, state, lease) and its steps, one row per
 * finished step, unique on (run, step, branch, round) so a step can never be recorded twice.
 * Approval requests drafted by a workflow step point at their run.
 */
export class Workflows1795380000000 implements MigrationInterface {
  name = 'Workflows1795380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS workflow_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        pattern text NOT NULL,
        agents text[] NOT NULL,
        input jsonb NOT NULL,
        options jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'queued',
        version integer NOT NULL DEFAULT 0,
        steps_done integer NOT NULL DEFAULT 0,
        lease_owner uuid,
        lease_expires_at timestamptz,
        result jsonb,
        error text,
        idempotency_key text,
        requested_by_type text NOT NULL,
        requested_by text NOT NULL,
        requested_scopes text[] NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT workflow_runs_pattern_check CHECK (pattern IN ('sequential', 'parallel', 'debate', 'verification', 'panel')),
        CONSTRAINT workflow_runs_status_check CHECK (status IN
          ('queued', 'running', 'waiting_approval', 'completed', 'failed', 'cancelled', 'escalated'))
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS workflow_runs_org_created_id ON workflow_runs (org_id, created_at, id)`);
    await q.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS workflow_runs_idempotency ON workflow_runs (org_id, idempotency_key)
       WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS workflow_runs_live ON workflow_runs (status, lease_expires_at)
       WHERE status IN ('queued', 'running', 'waiting_approval')`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS workflow_steps (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        run_id uuid NOT NULL REFERENCES workflow_runs(id),
        seq integer NOT NULL,
        step integer NOT NULL,
        branch integer NOT NULL,
        round integer NOT NULL,
        agent text NOT NULL,
        input jsonb NOT NULL,
        output jsonb NOT NULL,
        tool_calls jsonb NOT NULL DEFAULT '[]',
        duration_ms double precision NOT NULL,
        attempts integer NOT NULL,
        executed_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT workflow_steps_once UNIQUE (run_id, step, branch, round),
        CONSTRAINT workflow_steps_seq UNIQUE (run_id, seq)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS workflow_steps_org ON workflow_steps (org_id)`);
    for (const table of ['workflow_runs', 'workflow_steps']) await enableTenantRls(q, table);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE workflow_steps FROM ${DB_ROLES.runtimeGroup}`);

    await q.query(`ALTER TABLE approval_requests ADD COLUMN IF NOT EXISTS workflow_run_id uuid`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS approval_requests_workflow ON approval_requests (workflow_run_id) WHERE workflow_run_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE approval_requests DROP COLUMN IF EXISTS workflow_run_id`);
    await q.query(`DROP TABLE IF EXISTS workflow_steps`);
    await q.query(`DROP TABLE IF EXISTS workflow_runs`);
  }
}
