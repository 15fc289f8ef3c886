import { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES } from '../libs/database/database-roles';
import { enableTenantRls } from '../libs/database/rls';

const TENANT_TABLES = [
  'webhook_endpoints',
  'webhook_deliveries',
  'webhook_delivery_log',
  'webhook_sources',
  'processed_webhook_events',
];

/** Outbound endpoints, deliveries and their attempt log; inbound sources and the dedup table. */
export class Webhooks1795349000000 implements MigrationInterface {
  name = 'Webhooks1795349000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        url text NOT NULL,
        description text,
        event_types text[] NOT NULL,
        format text NOT NULL DEFAULT 'standard',
        rate_limit_per_second integer,
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        disabled_at timestamptz,
        secret_ciphertext text NOT NULL,
        previous_secret_ciphertext text,
        previous_secret_expires_at timestamptz,
        breaker_state text NOT NULL DEFAULT 'closed',
        breaker_failures integer NOT NULL DEFAULT 0,
        breaker_opened_at timestamptz,
        breaker_probe_in_flight boolean NOT NULL DEFAULT false,
        failing_since timestamptz,
        last_success_at timestamptz,
        deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_endpoints_format_check CHECK (format IN ('standard', 'slack')),
        CONSTRAINT webhook_endpoints_breaker_check CHECK (breaker_state IN ('closed', 'open', 'half_open')),
        CONSTRAINT webhook_endpoints_rate_check CHECK (rate_limit_per_second > 0)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_endpoints_org_created ON webhook_endpoints (org_id, created_at)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id),
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_status_code integer,
        last_error text,
        succeeded_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'deferred')),
        CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS webhook_deliveries_org_created ON webhook_deliveries (org_id, created_at, id)`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint_status ON webhook_deliveries (endpoint_id, status)`,
    );

    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_delivery_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries(id),
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        latency_ms integer NOT NULL,
        error_class text,
        response_body text,
        CONSTRAINT webhook_delivery_log_once UNIQUE (delivery_id, attempt)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_delivery_log_org_at ON webhook_delivery_log (org_id, at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_delivery_log_at ON webhook_delivery_log (at)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_sources (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        provider text NOT NULL,
        name text NOT NULL,
        secret_ciphertext text NOT NULL,
        public_url text,
        deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_sources_provider_check CHECK (provider IN ('twilio', 'standard'))
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_sources_org_created ON webhook_sources (org_id, created_at)`);

    await q.query(`
      CREATE TABLE IF NOT EXISTS processed_webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        source_id uuid NOT NULL REFERENCES webhook_sources(id),
        event_id text NOT NULL,
        status text NOT NULL DEFAULT 'received',
        attempts integer NOT NULL DEFAULT 0,
        payload jsonb NOT NULL,
        last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        CONSTRAINT processed_webhook_events_status_check CHECK (status IN ('received', 'processing', 'processed', 'failed')),
        CONSTRAINT processed_webhook_events_once UNIQUE (source_id, event_id)
      )`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS processed_webhook_events_org ON processed_webhook_events (org_id, received_at)`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS processed_webhook_events_received ON processed_webhook_events (received_at)`,
    );

    for (const table of TENANT_TABLES) await enableTenantRls(q, table);
    await q.query(`REVOKE UPDATE, DELETE ON TABLE webhook_delivery_log FROM ${DB_ROLES.runtimeGroup}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TENANT_TABLES].reverse()) await q.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
