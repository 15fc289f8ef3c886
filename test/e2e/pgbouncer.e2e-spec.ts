import request from 'supertest';
import {
  createTestDatabase,
  dbEnv,
  freePort,
  pgbouncerBinary,
  readClusterState,
  runApp,
  spawnApp,
  sql,
  startPgBouncer,
  TestDatabase,
  waitFor,
} from '../support';
import type { PgBouncer, SpawnedApp, TestHttpApp, TestOrg } from '../support';
import { expectedJobTotals, finished, PERIOD, seedPayroll } from './fixtures/payroll-seed';

const binary = pgbouncerBinary();
if (!binary) {
  process.stderr.write(
    'SKIPPED test/e2e/pgbouncer.e2e-spec.ts: the pgbouncer binary is not installed ' +
      '(Debian package "pgbouncer"; .ci/run installs it).\n',
  );
}
const describeWithBouncer = binary ? describe : describe.skip;

/** Server connections PgBouncer may open per database and role. */
const POOL = 3;

/**
 * The scale-out path: the api and a worker reach PostgreSQL through PgBouncer in transaction
 * pooling mode (runtime and system pools), with LISTEN and pg-boss on DATABASE_DIRECT_URL.
 * Tenancy holds under interleaved requests of two orgs on shared server connections, no
 * tenant setting outlives its transaction, a payroll run pays exactly, and PostgreSQL sees
 * no more runtime connections than the bouncer's pool however many clients there are.
 */
describeWithBouncer('through PgBouncer in transaction mode', () => {
  let db: TestDatabase;
  let bouncer: PgBouncer;
  let api: SpawnedApp;
  let worker: SpawnedApp;
  let env: Record<string, string>;
  let http: () => ReturnType<typeof request>;
  const orgs: TestOrg[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const state = readClusterState();
    bouncer = await startPgBouncer({
      upstreamHost: state.host,
      upstreamPort: state.port,
      users: {
        calmops_sys: state.passwords.system,
        calmops_app: state.passwords.runtime,
        calmops_owner: state.passwords.owner,
      },
      poolSize: POOL,
    });
    const port = await freePort();
    env = {
      ...dbEnv(db),
      DATABASE_URL: bouncer.through(db.runtime),
      DATABASE_SYSTEM_URL: bouncer.through(db.system),
      // Session work (LISTEN, pg-boss) and migrations go straight to PostgreSQL.
      DATABASE_DIRECT_URL: db.system,
      DATABASE_POOL_SIZE: '10',
      PORT: String(port),
      PAYROLL_POLL_INTERVAL_MS: '100',
      PAYROLL_CHECKPOINT_EVERY: '25',
      RATE_LIMIT_PRO_PER_HOUR: '1000000',
      LOG_LEVEL: 'error',
    };
    for (const name of ['Bounced A', 'Bounced B']) {
      const res = await runApp(['task', 'create-org', '--name', name, '--plan', 'pro'], env);
      expect(res.code).toBe(0);
      const { org_id, api_key } = JSON.parse(res.stdout) as { org_id: string; api_key: string };
      orgs.push({ id: org_id, apiKey: api_key, headers: { 'X-API-Key': api_key } });
    }
    api = spawnApp(['api'], env);
    worker = spawnApp(['worker'], { ...env, HEALTH_PORT: String(await freePort()) });
    http = () => request(`http://127.0.0.1:${port}`);
    await waitFor(async () => (await http().get('/health/ready')).status === 200, 30000, 100);
  }, 60000);
  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await bouncer?.stop();
    await db?.drop();
  });

  it('keeps tenants apart under interleaved requests sharing server connections', async () => {
    const [a, b] = orgs;
    const created: Record<string, string[]> = { [a.id]: [], [b.id]: [] };
    for (const org of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const res = await http()
          .post('/api/payroll/drivers')
          .set(org.headers)
          .send({ name: `Driver ${i}`, pay_type: 'per_load', rate: '100', external_ref: `d-${i}` });
        expect(res.status).toBe(201);
        created[org.id].push(res.body.id as string);
      }
    }
    const before = await bouncer.stats(db.name);
    // 300 reads of two orgs at once on at most POOL runtime connections.
    const reads = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const org = orgs[i % 2];
        return http()
          .get('/api/payroll/drivers?limit=50')
          .set(org.headers)
          .then((res) => ({ org, res }));
      }),
    );
    for (const { org, res } of reads) {
      expect(res.status).toBe(200);
      expect((res.body.items as { id: string }[]).map((d) => d.id).sort()).toEqual([...created[org.id]].sort());
    }
    expect((await http().get(`/api/payroll/drivers/${created[a.id][0]}`).set(b.headers)).status).toBe(404);
    const after = await bouncer.stats(db.name);
    expect(after.xacts - before.xacts).toBeGreaterThanOrEqual(300);

    // No tenant setting outlives its transaction on a pooled server connection, and without one
    // the runtime role sees no tenant row.
    for (let i = 0; i < 20; i++) {
      const [row] = await sql<{ org: string | null; drivers: number }>(
        bouncer.through(db.runtime),
        `SELECT nullif(current_setting('app.current_org', true), '') AS org,
                (SELECT count(*)::int FROM payroll_drivers) AS drivers`,
      );
      expect(row).toEqual({ org: null, drivers: 0 });
    }
  });

  it('runs payroll exactly, with the worker on the bouncer and its queue on the direct URL', async () => {
    const [a] = orgs;
    await seedPayroll(db.superuser, a.id, 6, 150);
    const res = await http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    expect(res.status).toBe(202);
    const job = await finished({ http } as unknown as TestHttpApp, a, res.body.job_id as string);
    expect(['completed', 'completed_with_flags']).toContain(job.status);
    expect(job.totals).toEqual(await expectedJobTotals(db.superuser, a.id));
    const dupes = await sql(
      db.superuser,
      `SELECT run_id, line_key, kind FROM payroll_run_lines GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);
  });

  it('PostgreSQL sees at most the pool per role, while LISTEN and pg-boss hold direct sessions', async () => {
    const sessions = await sql<{ pid: number; usename: string; application_name: string; query: string }>(
      db.superuser,
      `SELECT pid, usename, application_name, query FROM pg_stat_activity WHERE datname = $1`,
      [db.name],
    );
    const pooled = new Set(await bouncer.serverPids());
    // Two processes with DATABASE_POOL_SIZE=10 each would otherwise hold up to 20 runtime connections.
    const runtime = sessions.filter((s) => s.usename === 'calmops_app');
    expect(runtime.length).toBeGreaterThan(0);
    expect(runtime.length).toBeLessThanOrEqual(POOL);
    expect(runtime.every((s) => pooled.has(s.pid))).toBe(true);
    // The session work of both processes is on direct connections, none of them the bouncer's.
    const listening = sessions.filter((s) => s.query.startsWith('LISTEN '));
    const queue = sessions.filter((s) => s.application_name.startsWith('calmops:queue:'));
    expect(listening.length).toBeGreaterThanOrEqual(2);
    // The worker polls its queues all the time; the api's pg-boss pool may have closed idle connections.
    expect(queue.map((s) => s.application_name)).toContain('calmops:queue:worker');
    for (const s of [...listening, ...queue]) expect(pooled.has(s.pid)).toBe(false);
    const pools = await bouncer.pools(db.name);
    expect(pools.server_active + pools.server_idle).toBeLessThanOrEqual(3 * POOL);
  });
});
