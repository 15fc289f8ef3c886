import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { DatabaseService, pendingMigrations } from '../../libs/database';
import { QUEUE_SCHEMA, QueueDepthMetrics } from '../../libs/queue';

/** A due job waiting longer than these (seconds) warns / fails the queues check. */
export const QUEUE_WAIT_WARN_SECONDS = 60;
export const QUEUE_WAIT_FAIL_SECONDS = 300;
const LISTED = 20;

interface TenantTableRow {
  table: string;
  rls: boolean;
  forced: boolean;
  owner: string;
  policies: number;
  org_policies: number;
  runtime_owns: boolean;
}

/**
 * What the platform itself must have in production, measured in the database: migrations
 * applied, row-level security binding the runtime role on every tenant table, worker
 * processes alive, and queues draining.
 */
@Injectable()
export class PlatformChecks implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
    private readonly queueDepth: QueueDepthMetrics,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'migrations',
      title: 'Every migration of this build is applied.',
      remedy:
        'Run `task migrate` (the Kubernetes migrate Job) with DATABASE_ADMIN_URL before rolling out this version.',
      run: () => this.migrations(),
    });
    this.registry.register({
      id: 'rls',
      title:
        'Row-level security binds the runtime role on every tenant table: a policy on org_id, FORCE on, the role neither owner nor superuser, no BYPASSRLS.',
      remedy:
        'Run `task migrate` (it enables and forces RLS with a tenant_isolation policy); give DATABASE_URL a role that owns nothing and has NOSUPERUSER NOBYPASSRLS (README "Database roles").',
      run: () => this.rls(),
    });
    this.registry.register({
      id: 'workers',
      title: 'At least one queue worker (role worker or all) is alive, and an API process.',
      remedy:
        'Start worker replicas (`node dist/src/main.js worker`, docker/k8s/worker-deployment.yaml); a process is alive while its heartbeat is fresh (WORKER_HEARTBEAT_INTERVAL_MS × 3).',
      run: () => this.workers(),
    });
    this.registry.register({
      id: 'queues',
      title: `No queued job due for longer than ${QUEUE_WAIT_WARN_SECONDS} s.`,
      remedy:
        'Workers are missing or saturated: check the workers check, the workers’ logs, and scale them (the HPA on queue depth in docker/k8s).',
      run: () => this.queues(),
    });
  }

  private async migrations(): Promise<CheckOutcome> {
    const pending = await pendingMigrations(this.db.system);
    const [last] = (await this.db.system.query(
      `SELECT name, count(*) OVER ()::int AS applied FROM migrations ORDER BY id DESC LIMIT 1`,
    )) as { name: string; applied: number }[];
    return {
      verdict: pending.length ? 'fail' : 'pass',
      evidence: {
        known_to_this_build: this.db.system.migrations.length,
        applied: last?.applied ?? 0,
        latest_applied: last?.name ?? null,
        pending,
      },
    };
  }

  /** Read as the runtime role itself, so "its" tables and attributes are the ones requests use. */
  private async rls(): Promise<CheckOutcome> {
    const [role] = (await this.db.app.query(
      `SELECT current_user AS name, rolsuper AS superuser, rolbypassrls AS bypassrls FROM pg_roles WHERE rolname = current_user`,
    )) as { name: string; superuser: boolean; bypassrls: boolean }[];
    const tables = (await this.db.app.query(
      `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
              pg_get_userbyid(c.relowner) AS owner,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid
                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%org_id%') AS org_policies,
              pg_has_role(current_user, c.relowner, 'USAGE') AS runtime_owns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
       ORDER BY c.relname`,
    )) as TenantTableRow[];
    const problems = tables.flatMap((t) => [
      ...(t.rls ? [] : [`${t.table}: row-level security disabled`]),
      ...(t.forced ? [] : [`${t.table}: FORCE ROW LEVEL SECURITY off`]),
      ...(t.org_policies ? [] : [`${t.table}: no policy on org_id`]),
      ...(t.runtime_owns ? [`${t.table}: owned by the runtime role (${t.owner})`] : []),
    ]);
    if (role.superuser) problems.unshift(`runtime role ${role.name} is a superuser`);
    if (role.bypassrls) problems.unshift(`runtime role ${role.name} has BYPASSRLS`);
    return {
      verdict: problems.length || !tables.length ? 'fail' : 'pass',
      evidence: {
        runtime_role: role.name,
        superuser: role.superuser,
        bypassrls: role.bypassrls,
        tenant_tables: tables.length,
        enforced_tables: tables.length - new Set(problems.map((p) => p.split(':')[0])).size,
        problems: problems.slice(0, LISTED),
      },
    };
  }

  private async workers(): Promise<CheckOutcome> {
    const aliveSeconds = (this.config.get('WORKER_HEARTBEAT_INTERVAL_MS') * 3) / 1000;
    const rows = (await this.db.system.query(
      `SELECT role,
              count(*) FILTER (WHERE last_seen_at > now() - make_interval(secs => $1))::int AS alive,
              count(*) FILTER (WHERE last_seen_at <= now() - make_interval(secs => $1))::int AS silent,
              max(last_seen_at) AS last_seen_at,
              array_agg(DISTINCT version) AS versions
       FROM worker_heartbeats GROUP BY role ORDER BY role`,
      [aliveSeconds],
    )) as { role: string; alive: number; silent: number; last_seen_at: Date; versions: string[] }[];
    const alive = (roles: string[]) => rows.filter((r) => roles.includes(r.role)).reduce((n, r) => n + r.alive, 0);
    const consumers = alive(['worker', 'all']);
    const apis = alive(['api', 'all']);
    const versions = [...new Set(rows.flatMap((r) => r.versions))];
    return {
      verdict: consumers === 0 ? 'fail' : apis === 0 || versions.length > 1 ? 'warn' : 'pass',
      evidence: {
        alive_within_seconds: aliveSeconds,
        queue_consumers_alive: consumers,
        api_processes_alive: apis,
        by_role: rows,
        versions,
      },
      ...(consumers && apis && versions.length > 1
        ? { remedy: 'Processes run different versions: finish or roll back the rollout.' }
        : {}),
    };
  }

  private async queues(): Promise<CheckOutcome> {
    const busy = (await this.queueDepth.measure()).filter((q) => q.due || q.active);
    const oldest = Math.max(0, ...busy.map((q) => q.oldest_due_seconds));
    const [{ failed }] = (await this.db.system.query(
      `SELECT count(*)::int AS failed FROM ${QUEUE_SCHEMA}.job WHERE state = 'failed' AND completed_on > now() - interval '1 hour'`,
    )) as { failed: number }[];
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      verdict: oldest > QUEUE_WAIT_FAIL_SECONDS ? 'fail' : oldest > QUEUE_WAIT_WARN_SECONDS ? 'warn' : 'pass',
      evidence: {
        oldest_due_seconds: round(oldest),
        warn_after_seconds: QUEUE_WAIT_WARN_SECONDS,
        fail_after_seconds: QUEUE_WAIT_FAIL_SECONDS,
        failed_jobs_last_hour: failed,
        queues: busy.slice(0, LISTED).map((q) => ({ ...q, oldest_due_seconds: round(q.oldest_due_seconds) })),
      },
    };
  }
}
