import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresThrottlerStorage } from '../../libs/auth/postgres-throttler.storage';
import { DatabaseService } from '../../libs/database';
import { QueueService } from '../../libs/queue';
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import { NODE_VERSION } from '../../src/readiness/configuration-checks';
import { nodeSupport } from '../../src/readiness/node-support';
import { OFFER_TIMEOUT_QUEUE } from '../../src/sessions/call-router.service';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  dbEnv,
  freePort,
  runApp,
  spawnApp,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import type { SpawnedApp } from '../support';

interface Check {
  id: string;
  title: string;
  verdict: 'pass' | 'warn' | 'fail';
  evidence: Record<string, unknown>;
  remedy: string;
}
interface Report {
  verdict: 'READY' | 'NEEDS_ATTENTION' | 'NOT_READY';
  counts: { pass: number; warn: number; fail: number };
  checks: Check[];
}

const CHECK_IDS = [
  'migrations',
  'rls',
  'workers',
  'queues',
  'no_open_sev1_sev2',
  'breakers_closed',
  'sessions_clean',
  'webhook_endpoints_healthy',
  'secrets',
  'swagger',
  'cors',
  'rate_limits',
  'resources',
  'audit_chain',
  'backups',
  'node_runtime',
];

/**
 * The production-readiness report on a real api process and worker process: it starts
 * NOT_READY only for want of a reported backup, turns READY once one is reported, and every
 * check is then broken for real (a policy dropped, the worker killed, an incident declared, a
 * default secret left…) and seen to move its own verdict and the overall one, then repaired.
 */
describe('production-readiness report', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let worker: SpawnedApp | undefined;
  let org: TestOrg;
  let ops: Record<string, string>;
  let env: Record<string, string>;

  const report = async (): Promise<Report> => {
    const res = await t.http().get('/api/ops/readiness').set(ops);
    expect(res.status).toBe(200);
    return res.body as Report;
  };
  const check = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;
  /** The named checks have these verdicts, every other one passes, and the overall verdict follows. */
  const expectOnly = (r: Report, verdicts: Record<string, Check['verdict']>) => {
    const seen = Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));
    const expected = Object.fromEntries(CHECK_IDS.map((id) => [id, verdicts[id] ?? 'pass']));
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      const off = r.checks.filter((c) => c.verdict !== expected[c.id]);
      throw new Error(`unexpected verdicts: ${JSON.stringify(off, null, 1)}`);
    }
    const all = Object.values(expected);
    expect(r.verdict).toBe(all.includes('fail') ? 'NOT_READY' : all.includes('warn') ? 'NEEDS_ATTENTION' : 'READY');
    expect(r.counts).toEqual({
      pass: all.filter((v) => v === 'pass').length,
      warn: all.filter((v) => v === 'warn').length,
      fail: all.filter((v) => v === 'fail').length,
    });
  };
  const startWorker = async () => {
    worker = spawnApp(['worker'], { ...env, HEALTH_PORT: String(await freePort()) });
    await waitFor(async () => check(await report(), 'workers').verdict === 'pass' || null, 30000);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = {
      ...dbEnv(db),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'calmops-readiness-')),
      HEALTH_DISK_PATH: tmpdir(),
      CORS_ORIGINS: 'https://app.example.com',
      BACKUP_TARGET: 's3://backups/calmops',
      READINESS_MIN_FREE_DISK_MB: '1',
      READINESS_MIN_FREE_MEMORY_MB: '1',
      WORKER_HEARTBEAT_INTERVAL_MS: '1000',
      // The sweeper must not fix the stuck session before the report sees it.
      SESSION_CLEANUP_INTERVAL_SECONDS: '3600',
      HEALTH_SAMPLE_SECONDS: '3600',
    };
    t = await createTestHttpApp({
      db,
      role: 'api',
      env,
      // The report judges the runtime it is given; this one is a supported LTS on any day of its support.
      overrides: [{ provide: NODE_VERSION, useValue: '24.22.3' }],
    });
    org = await createTestOrg(t.app, 'Readiness Org');
    const keys = t.app.get(ApiKeysService);
    const key = await t.app.get(DatabaseService).system.transaction((m) => keys.insertPlatformKey(m, 'ops', 'test'));
    ops = { 'X-API-Key': key };
    await startWorker();
  }, 60000);
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await t?.close();
    await db?.drop();
  });

  it('is for platform admins only', async () => {
    expect((await t.http().get('/api/ops/readiness')).status).toBe(401);
    expect((await t.http().get('/api/ops/readiness').set(org.headers)).status).toBe(403);
    expect((await t.http().post('/api/ops/backups').set(org.headers).send({ completed_at: new Date() })).status).toBe(
      403,
    );
  });

  it('lists every check with evidence and a remedy; only the missing backup keeps it from READY', async () => {
    const r = await report();
    expect(r.checks.map((c) => c.id)).toEqual(CHECK_IDS);
    for (const c of r.checks) {
      expect(c.title.length).toBeGreaterThan(10);
      expect(c.remedy.length).toBeGreaterThan(10);
      expect(typeof c.evidence).toBe('object');
    }
    expectOnly(r, { backups: 'fail' });
    expect(check(r, 'backups').evidence).toMatchObject({ backup_target: 's3://backups/calmops', newest: null });
    // Measured, not declared: the evidence carries what was counted.
    expect(check(r, 'rls').evidence).toMatchObject({ runtime_role: 'calmops_app', superuser: false, bypassrls: false });
    expect(check(r, 'rls').evidence.tenant_tables).toBeGreaterThan(20);
    expect(check(r, 'workers').evidence).toMatchObject({ queue_consumers_alive: 1, api_processes_alive: 1 });
    expect(check(r, 'migrations').evidence.pending).toEqual([]);
    expect(check(r, 'audit_chain').evidence.orgs_verified).toBe(1);
    expect(check(r, 'node_runtime').evidence).toMatchObject({ version: '24.22.3', major: 24 });
    expect(check(r, 'resources').evidence).toMatchObject({ disk: { verdict: 'pass' }, memory: { verdict: 'pass' } });
    // No secret in the evidence.
    const text = JSON.stringify(r);
    for (const secret of [env.DATABASE_URL, new URL(env.DATABASE_URL).password, t.config.get('JWT_SECRET')!]) {
      expect(text).not.toContain(secret);
    }
  });

  it('a backup is judged by the age of the newest one; a backup in the future is refused and not stored', async () => {
    const future = await t.http().post('/api/ops/backups').set(ops).send({ completed_at: '2999-01-01T00:00:00Z' });
    expect(future.status).toBe(422);
    expect(future.headers['content-type']).toMatch(/application\/problem\+json/);
    const bad = await t.http().post('/api/ops/backups').set(ops).send({ completed_at: 'yesterday', size_bytes: -1 });
    expect(bad.status).toBe(400);
    expect(await sql(db.superuser, 'SELECT 1 FROM ops_backups')).toHaveLength(0);

    const old = new Date(Date.now() - 30 * 3600_000).toISOString();
    const stale = await t.http().post('/api/ops/backups').set(ops).send({ completed_at: old, method: 'pg_dump' });
    expect(stale.status).toBe(201);
    expect(stale.body).toMatchObject({ target: 's3://backups/calmops', method: 'pg_dump', size_bytes: null });
    expect(stale.body.reported_by).toMatch(/^platform_key:/);
    let r = await report();
    expectOnly(r, { backups: 'fail' });
    expect(check(r, 'backups').evidence.newest_age_hours).toBeCloseTo(30, 0);

    const fresh = await t
      .http()
      .post('/api/ops/backups')
      .set(ops)
      .send({ completed_at: new Date().toISOString(), size_bytes: 123456789 });
    expect(fresh.status).toBe(201);
    r = await report();
    expectOnly(r, {});
    expect(r.verdict).toBe('READY');
  });

  it('a pending migration fails it', async () => {
    const [last] = await sql<{ id: number; timestamp: string; name: string }>(
      db.superuser,
      'SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await sql(db.superuser, 'DELETE FROM migrations WHERE id = $1', [last.id]);
    const r = await report();
    // The sessions checklist counts the migrations too.
    expectOnly(r, { migrations: 'fail', sessions_clean: 'fail' });
    expect(check(r, 'migrations').evidence.pending).toEqual([last.name]);
    await sql(db.superuser, 'INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [
      last.id,
      last.timestamp,
      last.name,
    ]);
    expectOnly(await report(), {});
  });

  it('a dropped policy or FORCE turned off fails RLS, naming the table', async () => {
    await sql(db.superuser, 'DROP POLICY tenant_isolation ON calls');
    await sql(db.superuser, 'ALTER TABLE payroll_runs NO FORCE ROW LEVEL SECURITY');
    const r = await report();
    expectOnly(r, { rls: 'fail' });
    expect(check(r, 'rls').evidence.problems).toEqual([
      'calls: no policy on org_id',
      'payroll_runs: FORCE ROW LEVEL SECURITY off',
    ]);
    await sql(
      db.superuser,
      `CREATE POLICY tenant_isolation ON calls USING (org_id = calmops_current_org()) WITH CHECK (org_id = calmops_current_org())`,
    );
    await sql(db.superuser, 'ALTER TABLE payroll_runs FORCE ROW LEVEL SECURITY');
    expectOnly(await report(), {});
  });

  it('an open SEV2 incident fails it until it is cancelled', async () => {
    const declared = await t
      .http()
      .post('/api/ops/incidents')
      .set(ops)
      .send({ title: 'Database failover', severity: 'SEV2', category: 'availability' });
    expect(declared.status).toBe(201);
    const r = await report();
    expectOnly(r, { no_open_sev1_sev2: 'fail' });
    expect(check(r, 'no_open_sev1_sev2').evidence.sev1_sev2).toEqual([
      expect.objectContaining({ id: declared.body.id, severity: 'SEV2', title: 'Database failover' }),
    ]);
    await t.http().post(`/api/ops/incidents/${declared.body.id}/cancel`).set(ops).send({}).expect(200);
    expectOnly(await report(), {});
  });

  it('an open breaker and an endpoint failing for hours need attention', async () => {
    const created = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: 'https://example.com/hooks', event_types: ['call.completed'] });
    expect(created.status).toBe(201);
    await sql(
      db.superuser,
      `UPDATE webhook_endpoints SET breaker_state = 'open', breaker_opened_at = now(), failing_since = now() - interval '2 hours'`,
    );
    const r = await report();
    expectOnly(r, { breakers_closed: 'warn', webhook_endpoints_healthy: 'warn' });
    expect(check(r, 'breakers_closed').evidence).toMatchObject({ open: 1, enabled_endpoints: 1 });
    expect(check(r, 'webhook_endpoints_healthy').evidence).toMatchObject({ failing_long: 1 });
    await sql(db.superuser, `UPDATE webhook_endpoints SET breaker_state = 'closed', failing_since = NULL`);
    expectOnly(await report(), {});
  });

  it('a stuck session needs attention until the sweeper runs', async () => {
    await sql(
      db.superuser,
      `WITH a AS (INSERT INTO call_agents (org_id, name) VALUES ($1, 'Stale') RETURNING id),
       s AS (INSERT INTO agent_sessions (org_id, agent_id, login_at, capacity, idle_since)
         SELECT $1, a.id, now() - interval '2 hours', 1, now() - interval '2 hours' FROM a RETURNING id)
       INSERT INTO agent_presence (session_id, org_id, last_heartbeat, device_connected)
       SELECT s.id, $1, now() - interval '2 hours', true FROM s`,
      [org.id],
    );
    const r = await report();
    expectOnly(r, { sessions_clean: 'warn' });
    expect(check(r, 'sessions_clean').evidence.status).toBe('NEEDS_SESSION_CLEANUP');
    await t.http().post('/api/cron/session-cleanup').set(org.headers).expect(200);
    expectOnly(await report(), {});
  });

  it('rate-limit counts no longer shared fail it', async () => {
    const storage = t.app.get(PostgresThrottlerStorage);
    storage.stopFlushing();
    const r = await report();
    expectOnly(r, { rate_limits: 'fail' });
    expect(check(r, 'rate_limits').evidence.sharing_counts).toBe(false);
    storage.startFlushing();
    expectOnly(await report(), {});
  });

  it('a changed audit row breaks the chain of its org', async () => {
    const [first] = await sql<{ action: string }>(
      db.superuser,
      'SELECT action FROM audit_events WHERE org_id = $1 AND seq = 1',
      [org.id],
    );
    const tamper = (action: string) =>
      sql(
        db.superuser,
        `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
         UPDATE audit_events SET action = '${action}' WHERE org_id = '${org.id}' AND seq = 1;
         ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;`,
      );
    await tamper('org.deleted');
    const r = await report();
    expectOnly(r, { audit_chain: 'fail' });
    expect(check(r, 'audit_chain').evidence.broken).toEqual([
      expect.objectContaining({ org_id: org.id, broken_at_seq: 1, reason: 'hash mismatch' }),
    ]);
    await tamper(first.action);
    expectOnly(await report(), {});
  });

  it('a killed worker fails it, and so does a due job nobody takes; a new worker repairs both', async () => {
    await worker!.stop('SIGKILL');
    const dead = await waitFor(async () => {
      const r = await report();
      return check(r, 'workers').verdict === 'fail' ? r : null;
    }, 15000);
    expectOnly(dead, { workers: 'fail' });
    expect(check(dead, 'workers').evidence.queue_consumers_alive).toBe(0);

    const jobId = await t.app.get(QueueService).send(OFFER_TIMEOUT_QUEUE, { call_id: org.id, org_id: org.id });
    await sql(db.superuser, `UPDATE pgboss.job SET start_after = now() - interval '10 minutes' WHERE id = $1`, [jobId]);
    const r = await report();
    expectOnly(r, { workers: 'fail', queues: 'fail' });
    expect(check(r, 'queues').evidence.oldest_due_seconds).toBeGreaterThan(590);
    // The same depth is what /metrics gives the worker autoscaler.
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(new RegExp(`^queue_due_jobs\\{queue="${OFFER_TIMEOUT_QUEUE}"\\} 1$`, 'm'));
    const oldest = new RegExp(`^queue_oldest_due_seconds\\{queue="${OFFER_TIMEOUT_QUEUE}"\\} ([\\d.]+)$`, 'm');
    expect(Number(oldest.exec(metrics.text)?.[1])).toBeGreaterThan(590);

    await sql(db.superuser, `DELETE FROM pgboss.job WHERE id = $1`, [jobId]);
    await startWorker();
    expectOnly(await report(), {});
  });

  it('configuration: a default secret, Swagger in production, plain-http CORS, a full disk and an EOL Node', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'calmops-readiness-prod-'));
    const jwt = 'generated-for-development-Zx81kQ2vLm93NaPq4RsT7uVw';
    writeFileSync(join(dataDir, 'dev-secrets.json'), JSON.stringify({ JWT_SECRET: jwt }));
    const prod = await createTestHttpApp({
      db,
      role: 'api',
      env: {
        ...env,
        NODE_ENV: 'production',
        SHUTDOWN_DELAY_MS: '0',
        DATA_DIR: dataDir,
        JWT_SECRET: jwt,
        SWAGGER_ENABLED: 'true',
        CORS_ORIGINS: 'http://app.example.com',
        BACKUP_TARGET: '',
        READINESS_MIN_FREE_DISK_MB: '100000000',
        READINESS_MIN_FREE_MEMORY_MB: '100000000',
      },
      overrides: [{ provide: NODE_VERSION, useValue: '20.20.2' }],
    });
    try {
      const res = await prod.http().get('/api/ops/readiness').set(ops).expect(200);
      const r = res.body as Report;
      expectOnly(r, {
        secrets: 'fail',
        swagger: 'fail',
        cors: 'warn',
        resources: 'fail',
        backups: 'fail',
        node_runtime: 'fail',
      });
      expect(check(r, 'secrets').evidence.findings).toEqual([
        'JWT_SECRET is the development secret generated into DATA_DIR',
      ]);
      expect(check(r, 'cors').evidence.not_https).toEqual(['http://app.example.com']);
      expect(check(r, 'resources').evidence).toMatchObject({
        disk: { verdict: 'fail', min_free_mb: 100000000 },
        memory: { verdict: 'fail', min_free_mb: 100000000 },
      });
      expect(check(r, 'node_runtime').evidence).toMatchObject({ status: 'end_of_life', end_of_life: '2026-04-30' });
      expect(JSON.stringify(r)).not.toContain(jwt);
    } finally {
      await prod.close();
    }
  });

  it('`task readiness` prints the report and exits 0 only when READY, judging its own Node', async () => {
    const json = await runApp(['task', 'readiness'], env);
    const r = JSON.parse(json.stdout) as Report;
    expect(r.checks.map((c) => c.id)).toEqual(CHECK_IDS);
    expect(json.code).toBe(r.verdict === 'READY' ? 0 : 1);
    const node = check(r, 'node_runtime');
    const expected = nodeSupport(process.versions.node, new Date());
    expect(node.evidence.version).toBe(process.versions.node);
    expect(node.verdict).toBe(expected.verdict);
    // Everything else in this world is in order, so only the runtime can keep it from READY.
    expectOnly(r, { node_runtime: expected.verdict });

    const text = await runApp(['task', 'readiness', '--format', 'text'], env);
    expect(text.code).toBe(json.code);
    expect(text.stdout.split('\n')[0]).toMatch(
      /^(READY|NEEDS_ATTENTION|NOT_READY) {2}\(\d+ pass, \d+ warn, \d+ fail; /,
    );
    expect(text.stdout).toMatch(/^PASS {2}rls {24}/m);
  });
});
