import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { TimeoutError, withTimeout } from '../../libs/resilience';
import { DatabaseService, pendingMigrations, TenantContext } from '../../libs/database';
import { SessionSweeper } from './session-sweeper.service';
import { countStuckSql, STUCK_KINDS, stuckParams } from './stuck-states';
import type { SweepCounts } from './stuck-states';

export const READINESS_STATUSES = ['READY', 'NEEDS_SESSION_CLEANUP', 'NEEDS_MIGRATION', 'NOT_READY'] as const;
export type ReadinessStatus = (typeof READINESS_STATUSES)[number];

export interface ReadinessCounts extends SweepCounts {
  open_sessions: number;
  live_calls: number;
  queued_calls: number;
}

export interface SessionReadinessReport {
  status: ReadinessStatus;
  schema_ready: boolean;
  /** Null when the schema cannot be counted (missing tables/columns) or the database is down. */
  sessions_clean: boolean | null;
  counts: ReadinessCounts | null;
  pending_migrations: string[];
  missing_schema: string[];
  error?: string;
}

/** Columns the sweeper, the router and this report rely on. */
const REQUIRED_COLUMNS: Record<string, string[]> = {
  call_agents: ['id', 'org_id', 'max_concurrent_calls'],
  agent_sessions: [
    'id',
    'org_id',
    'agent_id',
    'login_at',
    'logout_at',
    'end_reason',
    'status',
    'pending_status',
    'capacity',
    'active_calls',
    'current_call_id',
    'offer_cooldown_until',
    'ready_at',
    'wake_at',
    'stale_flagged_at',
  ],
  agent_presence: ['session_id', 'org_id', 'last_heartbeat', 'device_connected'],
  agent_status_history: ['org_id', 'session_id', 'agent_id', 'from_status', 'to_status', 'actor', 'reason'],
  calls: [
    'id',
    'org_id',
    'status',
    'agent_id',
    'session_id',
    'reserved_until',
    'offer_count',
    'last_missed_session_id',
    'queued_at',
  ],
};
/** Partial unique indexes that enforce the invariants (one open session, one call per provider id). */
const REQUIRED_UNIQUE_INDEXES: Record<string, string> = {
  agent_sessions_one_open: 'agent_sessions',
  calls_org_external_id: 'calls',
};
const REQUIRED_CHECKS: Record<string, string> = { agent_sessions_calls_check: 'agent_sessions' };

/**
 * Whether call-center sessions can be trusted: the schema is there and migrated, and no stuck
 * state is waiting for the sweeper. Counts use the sweeper's own conditions (stuck-states.ts),
 * so "would fix" here is exactly what a sweep fixes.
 */
@Injectable()
export class SessionReadiness {
  constructor(
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
    private readonly sweeper: SessionSweeper,
    private readonly config: AppConfig,
  ) {}

  /** All orgs, or one org (then counted inside its tenant transaction when there is one). */
  async report(orgId?: string): Promise<SessionReadinessReport> {
    const unreachable = await this.unreachable();
    if (unreachable) return this.notReady(unreachable);
    try {
      const [pending, missing] = await Promise.all([pendingMigrations(this.db.system), this.missingSchema()]);
      const counts = missing.length ? null : await this.count(orgId);
      const schemaReady = !pending.length && !missing.length;
      const clean = counts ? STUCK_KINDS.every((k) => counts[k] === 0) : null;
      const status: ReadinessStatus = !schemaReady ? 'NEEDS_MIGRATION' : clean ? 'READY' : 'NEEDS_SESSION_CLEANUP';
      return {
        status,
        schema_ready: schemaReady,
        sessions_clean: clean,
        counts,
        pending_migrations: pending,
        missing_schema: missing,
      };
    } catch (err) {
      if (!this.db.connected) return this.notReady((err as Error).message);
      throw err;
    }
  }

  private async count(orgId?: string): Promise<ReadinessCounts> {
    const runner = orgId && this.tenant.active ? this.tenant.manager : this.db.system;
    const [row] = (await runner.query(countStuckSql(), stuckParams(this.sweeper.thresholds(), orgId))) as [
      ReadinessCounts,
    ];
    return row;
  }

  /** `table.column`, `index:name` and `check:name` entries the database lacks. */
  private async missingSchema(): Promise<string[]> {
    const tables = Object.keys(REQUIRED_COLUMNS);
    const columns = (await this.db.system.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ANY($1)`,
      [tables],
    )) as { table_name: string; column_name: string }[];
    const have = new Set(columns.map((c) => `${c.table_name}.${c.column_name}`));
    const missing = Object.entries(REQUIRED_COLUMNS).flatMap(([t, cols]) =>
      cols.map((c) => `${t}.${c}`).filter((name) => !have.has(name)),
    );
    const indexes = (await this.db.system.query(
      `SELECT indexname, tablename FROM pg_indexes
       WHERE schemaname = current_schema() AND indexname = ANY($1) AND indexdef LIKE 'CREATE UNIQUE INDEX%WHERE%'`,
      [Object.keys(REQUIRED_UNIQUE_INDEXES)],
    )) as { indexname: string; tablename: string }[];
    for (const [name, table] of Object.entries(REQUIRED_UNIQUE_INDEXES)) {
      if (!indexes.some((i) => i.indexname === name && i.tablename === table)) missing.push(`index:${name}`);
    }
    const checks = (await this.db.system.query(
      `SELECT con.conname, rel.relname FROM pg_constraint con
       JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace ns ON ns.oid = rel.relnamespace
       WHERE con.contype = 'c' AND ns.nspname = current_schema() AND con.conname = ANY($1)`,
      [Object.keys(REQUIRED_CHECKS)],
    )) as { conname: string; relname: string }[];
    for (const [name, table] of Object.entries(REQUIRED_CHECKS)) {
      if (!checks.some((c) => c.conname === name && c.relname === table)) missing.push(`check:${name}`);
    }
    return missing;
  }

  /** A reason when the database cannot be reached within the connect timeout, else null. */
  private async unreachable(): Promise<string | null> {
    const ms = this.config.get('DATABASE_CONNECT_TIMEOUT_MS');
    const probe = this.db.whenConnected().then(() => this.db.system.query('SELECT 1'));
    return withTimeout(probe, ms, 'the database')
      .then(() => null)
      .catch((err: Error) => (err instanceof TimeoutError ? `database not reachable within ${ms} ms` : err.message));
  }

  private notReady(error: string): SessionReadinessReport {
    return {
      status: 'NOT_READY',
      schema_ready: false,
      sessions_clean: null,
      counts: null,
      pending_migrations: [],
      missing_schema: [],
      error,
    };
  }
}
