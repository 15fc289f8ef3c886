import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls } from '../libs/database/rls';

const TENANT_TABLES = [
  'agent_conversations',
  'agent_tool_calls',
  'approval_requests',
  'support_tickets',
  'escalations',
];

/**
 * Assistant agents: conversations with their tool calls, approval requests that bind a drafted
 * action to its frozen arguments, the support tickets an approved draft creates, and
 * escalations to a human. Every table is tenant data under RLS; tool calls are append-only.
 */
export class AssistantAgents1795370000000 implements MigrationInterface {
  name = 'AssistantAgents1795370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS agent_conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        agent text NOT NULL,
        routed_by text NOT NULL,
        message text NOT NULL,
        context jsonb NOT NULL DEFAULT '{}',
        answer text NOT NULL,
        evidence jsonb NOT NULL DEFAULT '[]',
        confidence double precision NOT NULL,
        provider text NOT NULL,
        input_tokens integer NOT NULL DEFAULT 0,
        output_tokens integer NOT NULL DEFAULT 0,
        cost_micro_usd bigint NOT NULL DEFAULT 0,
        requested_by_type text NOT NULL,
        requested_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS agent_conversations_org_created_id ON agent_conversations (org_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS agent_tool_calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        conversation_id uuid NOT NULL REFERENCES agent_conversations(id),
        seq integer NOT NULL,
        tool text NOT NULL,
        tool_version integer NOT NULL,
        input jsonb NOT NULL,
        output jsonb,
        outcome text NOT NULL,
        error text,
        duration_ms double precision NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT agent_tool_calls_outcome_check CHECK (outcome IN ('ok', 'denied', 'failed')),
        CONSTRAINT agent_tool_calls_once UNIQUE (conversation_id, seq)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS agent_tool_calls_org ON agent_tool_calls (org_id)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS approval_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        conversation_id uuid REFERENCES agent_conversations(id),
        agent text NOT NULL,
        tool text NOT NULL,
        tool_version integer NOT NULL,
        arguments jsonb NOT NULL,
        arguments_hash text NOT NULL,
        summary text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        requested_by_type text NOT NULL,
        requested_by text NOT NULL,
        decided_by_type text,
        decided_by text,
        decision_reason text,
        decided_at timestamptz,
        expires_at timestamptz NOT NULL,
        executed_at timestamptz,
        result jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT approval_requests_status_check CHECK (status IN
          ('pending', 'approved', 'rejected', 'expired', 'cancelled', 'executing', 'executed', 'execution_failed'))
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS approval_requests_org_created_id ON approval_requests (org_id, created_at, id)`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS approval_requests_waiting ON approval_requests (status, updated_at)
       WHERE status IN ('pending', 'approved')`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS support_tickets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        approval_id uuid NOT NULL REFERENCES approval_requests(id),
        subject text NOT NULL,
        body text NOT NULL,
        priority text NOT NULL,
        payroll_run_id uuid,
        ticket_ids uuid[] NOT NULL DEFAULT '{}',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT support_tickets_priority_check CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
        CONSTRAINT support_tickets_once UNIQUE (approval_id)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS support_tickets_org_created_id ON support_tickets (org_id, created_at, id)`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS escalations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        conversation_id uuid REFERENCES agent_conversations(id),
        approval_id uuid REFERENCES approval_requests(id),
        reason text NOT NULL,
        detail text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT escalations_reason_check CHECK (reason IN
          ('no_agent', 'low_confidence', 'policy_denied', 'provider_unavailable', 'approval_expired'))
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS escalations_org_created_id ON escalations (org_id, created_at, id)`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS escalations_approval_once ON escalations (approval_id)`);

    for (const table of TENANT_TABLES) await enableTenantRls(q, table);
    // History is appended, never rewritten.
    await q.query(`REVOKE UPDATE, DELETE ON TABLE agent_tool_calls FROM ${DB_ROLES.runtimeGroup}`);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE support_tickets FROM ${DB_ROLES.runtimeGroup}`);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE escalations FROM ${DB_ROLES.runtimeGroup}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'escalations',
      'support_tickets',
      'approval_requests',
      'agent_tool_calls',
      'agent_conversations',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
