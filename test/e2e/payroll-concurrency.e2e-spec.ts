import { Client } from 'pg';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  dbEnv,
  freePort,
  spawnApp,
  waitUntilReady,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { expectedTotals, PERIOD, seedPayroll } from './fixtures/payroll-seed';

const ENV = {
  PAYROLL_POLL_INTERVAL_MS: '100',
  PAYROLL_CHECKPOINT_EVERY: '10',
  PAYROLL_LEASE_SECONDS: '3',
  PAYROLL_RETRY_BASE_MS: '100',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
};
const FINAL = ['completed', 'completed_with_flags', 'failed', 'cancelled'];

/** Samples the runs table every few ms until stopped; records the worst moment seen. */
class CapSampler {
  maxRunning = 0;
  maxRunningInOneOrg = 0;
  samples = 0;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly url: string) {}

  start(): void {
    this.loop = (async () => {
      const client = new Client({ connectionString: this.url });
      await client.connect();
      try {
        while (!this.stopped) {
          const { rows } = await client.query(
            `SELECT count(*)::int AS running, coalesce(max(n), 0)::int AS per_org FROM (
               SELECT org_id, count(*) AS n FROM payroll_runs WHERE status = 'running' GROUP BY org_id) x`,
          );
          const running = (rows[0] as { running: number }).running;
          const perOrg = (rows[0] as { per_org: number }).per_org;
          const total = (await client.query(`SELECT count(*)::int AS n FROM payroll_runs WHERE status = 'running'`))
            .rows[0] as { n: number };
          this.maxRunning = Math.max(this.maxRunning, total.n, running);
          this.maxRunningInOneOrg = Math.max(this.maxRunningInOneOrg, perOrg);
          this.samples++;
          await new Promise((r) => setTimeout(r, 3));
        }
      } finally {
        await client.end();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

async function allFinal(url: string, expected: number): Promise<boolean> {
  const [row] = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM payroll_runs WHERE status = ANY($1)`, [
    FINAL,
  ]);
  return row.n === expected;
}

describe('payroll concurrency', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db?.drop();
  });

  it('50 orgs enqueue at once: all 202, never more than 2 running, never 2 in one org, all finish', async () => {
    const t = await createTestHttpApp({ db, role: 'all', env: ENV });
    try {
      const orgs: TestOrg[] = [];
      for (let i = 0; i < 50; i++) orgs.push(await createTestOrg(t.app, `Org ${i}`, 'pro'));
      for (const org of orgs) await seedPayroll(db.superuser, org.id, 2, 30);
      const sampler = new CapSampler(db.superuser);
      sampler.start();
      const responses = await Promise.all(
        orgs.map((org) =>
          t
            .http()
            .post('/api/payroll/run')
            .set(org.headers)
            .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(orgs.map(() => 202));
      const positions = responses.map((r) => r.body.queue_position as number);
      expect(Math.max(...positions)).toBeGreaterThan(1);
      await waitFor(() => allFinal(db.superuser, 50), 90000, 200);
      await sampler.stop();
      expect(sampler.samples).toBeGreaterThan(50);
      expect(sampler.maxRunning).toBeLessThanOrEqual(2);
      expect(sampler.maxRunning).toBe(2);
      expect(sampler.maxRunningInOneOrg).toBe(1);
      const statuses = await sql<{ status: string }>(db.superuser, `SELECT DISTINCT status FROM payroll_runs`);
      expect(statuses.map((s) => s.status).every((s) => s.startsWith('completed'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('two worker processes and one api process on one database still cap at 2 globally and 1 per org', async () => {
    const setup = await createTestHttpApp({ db, role: 'api', env: ENV });
    const orgs: TestOrg[] = [];
    for (let i = 0; i < 8; i++) orgs.push(await createTestOrg(setup.app, `W ${i}`, 'pro'));
    await setup.close();
    for (const org of orgs) await seedPayroll(db.superuser, org.id, 3, 200);
    const apiPort = await freePort();
    const api = spawnApp(['api'], { ...dbEnv(db), ...ENV, PORT: String(apiPort) });
    const workers = [0, 1].map(async () =>
      spawnApp(['worker'], { ...dbEnv(db), ...ENV, HEALTH_PORT: String(await freePort()) }),
    );
    const procs = [api, ...(await Promise.all(workers))];
    const sampler = new CapSampler(db.superuser);
    try {
      const base = `http://127.0.0.1:${apiPort}`;
      await waitUntilReady(api, `${base}/health/ready`);
      sampler.start();
      const statuses = await Promise.all(
        orgs.flatMap((org) =>
          ['2026-11-02', '2026-11-03'].map(async (start) => {
            const res = await fetch(`${base}/api/payroll/run`, {
              method: 'POST',
              headers: { ...org.headers, 'Content-Type': 'application/json' },
              body: JSON.stringify({ pay_period_start: start, pay_period_end: PERIOD.end }),
            });
            return res.status;
          }),
        ),
      );
      expect(statuses.every((s) => s === 202)).toBe(true);
      await waitFor(() => allFinal(db.superuser, 16), 120000, 200);
      await sampler.stop();
      expect(sampler.maxRunning).toBe(2);
      expect(sampler.maxRunningInOneOrg).toBe(1);
      // Both worker processes ran runs: each claim names the process that made it.
      const runners = await sql<{ actor: string; claims: number }>(
        db.superuser,
        `SELECT e.actor, count(*)::int AS claims FROM payroll_run_events e
         WHERE e.to_status = 'running' AND e.org_id = ANY($1::uuid[]) GROUP BY e.actor ORDER BY e.actor`,
        [orgs.map((o) => o.id)],
      );
      process.stdout.write(`payroll-concurrency: claims per worker ${JSON.stringify(runners)}\n`);
      expect(runners).toHaveLength(2);
      expect(runners.every((r) => /^worker:[0-9a-f-]{36}$/.test(r.actor) && r.claims > 0)).toBe(true);
    } finally {
      await sampler.stop();
      await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    }
  });

  it('a worker SIGKILLed in the middle of a 20,000-ticket run: another worker finishes it, paying exactly the same', async () => {
    const setup: TestHttpApp = await createTestHttpApp({ db, role: 'api', env: ENV });
    const org = await createTestOrg(setup.app, 'Big Hauler', 'pro');
    await seedPayroll(db.superuser, org.id, 200, 20000);
    const first = spawnApp(['worker'], { ...dbEnv(db), ...ENV, HEALTH_PORT: String(await freePort()) });
    let second: ReturnType<typeof spawnApp> | undefined;
    try {
      const res = await setup
        .http()
        .post('/api/payroll/run')
        .set(org.headers)
        .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
      expect(res.status).toBe(202);
      const jobId = res.body.job_id as string;
      const progress = async () =>
        (
          await sql<{ processed_tickets: number; status: string }>(
            db.superuser,
            `SELECT processed_tickets, status FROM payroll_runs WHERE id = $1`,
            [jobId],
          )
        )[0];
      await waitFor(async () => (await progress()).processed_tickets >= 3000, 60000, 50);
      expect(await first.stop('SIGKILL')).toBe('SIGKILL');
      const atKill = await progress();
      expect(atKill.status).toBe('running');
      expect(atKill.processed_tickets).toBeLessThan(20000);

      second = spawnApp(['worker'], { ...dbEnv(db), ...ENV, HEALTH_PORT: String(await freePort()) });
      await waitFor(async () => FINAL.includes((await progress()).status), 120000, 200);
      const job = (await setup.http().get(`/api/payroll/jobs/${jobId}`).set(org.headers)).body;
      expect(job.status).toMatch(/^completed/);
      expect(job.progress).toEqual({ processed_tickets: 20000, total_tickets: 20000 });
      const expected = await expectedTotals(db.superuser, org.id);
      expect(job.totals).toEqual({
        gross_cents: expected.totals.grossCents,
        deductions_cents: expected.totals.deductionsCents,
        net_cents: expected.totals.netCents,
        held_cents: expected.totals.heldCents,
      });
      const dupes = await sql(
        db.superuser,
        `SELECT line_key FROM payroll_run_lines WHERE run_id = $1 GROUP BY line_key, kind HAVING count(*) > 1`,
        [jobId],
      );
      expect(dupes).toEqual([]);
      const ticketLines = await sql<{ n: number }>(
        db.superuser,
        `SELECT count(*)::int AS n FROM payroll_run_lines WHERE run_id = $1 AND kind = 'ticket'`,
        [jobId],
      );
      expect(ticketLines[0].n).toBe(20000);
      const recovered = await sql(
        db.superuser,
        `SELECT 1 FROM payroll_run_events WHERE run_id = $1 AND reason LIKE 'lease expired%'`,
        [jobId],
      );
      expect(recovered).toHaveLength(1);
    } finally {
      await first.stop('SIGKILL');
      await second?.stop('SIGTERM');
      await setup.close();
    }
  });
});
