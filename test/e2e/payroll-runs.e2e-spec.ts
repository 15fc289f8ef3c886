import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  expectOrgIsolation,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { FINAL_STATUSES } from '../../src/payroll/runs/entities/payroll-run.entity';
import { expectedTotals, finished, PERIOD, runsWithBrokenHistory, seedPayroll } from './fixtures/payroll-seed';

const FAST = {
  PAYROLL_POLL_INTERVAL_MS: '100',
  PAYROLL_CHECKPOINT_EVERY: '10',
  PAYROLL_RETRY_BASE_MS: '100',
  PAYROLL_RETRY_CAP_MS: '1000',
  PAYROLL_LEASE_SECONDS: '5',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  LOG_LEVEL: 'error',
};

describe('payroll runs', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    a = await createTestOrg(t.app, 'Haulers A', 'pro');
    b = await createTestOrg(t.app, 'Haulers B', 'pro');
    await seedPayroll(db.superuser, a.id, 12, 300);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('queues a run (202), completes it, and pays exactly what the calculator says', async () => {
    const res = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      job_id: expect.any(String),
      status: 'queued',
      queue_position: expect.any(Number),
    });
    const job = await finished(t, a, res.body.job_id);
    expect(['completed', 'completed_with_flags']).toContain(job.status);
    expect(job.progress).toEqual({ processed_tickets: 300, total_tickets: 300 });
    const expected = await expectedTotals(db.superuser, a.id);
    expect(job.totals).toEqual({
      gross_cents: expected.totals.grossCents,
      deductions_cents: expected.totals.deductionsCents,
      net_cents: expected.totals.netCents,
      held_cents: expected.totals.heldCents,
    });
    expect(job.flags).toEqual({ ...expected.flags, run: [] });
    const dupes = await sql(
      db.superuser,
      `SELECT run_id, line_key, kind FROM payroll_run_lines GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);

    const statements = await t.http().get(`/api/payroll/jobs/${res.body.job_id}/statements?limit=200`).set(a.headers);
    expect(statements.status).toBe(200);
    expect(statements.body.items).toHaveLength(expected.statements.length);
    const sum = (statements.body.items as { gross_cents: number }[]).reduce((acc, s) => acc + s.gross_cents, 0);
    expect(sum).toBe(expected.totals.grossCents);
    const csv = await t.http().get(`/api/payroll/jobs/${res.body.job_id}/statements.csv`).set(a.headers);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toMatch(/^record,driver_id,driver_name,ticket_number/);

    const events = await sql(
      db.superuser,
      `SELECT type, data FROM domain_events WHERE org_id = $1 AND type = 'payroll.run.completed'`,
      [a.id],
    );
    expect(events).toHaveLength(1);
  });

  it('returns the live run for the same period (200) and needs replace for a completed one (409)', async () => {
    const again = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    expect(again.status).toBe(409);
    const replace = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end, replace: true });
    expect(replace.status).toBe(202);
    const dup = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end, replace: true });
    expect([200, 409]).toContain(dup.status);
    await finished(t, a, replace.body.job_id);
    const runs = await sql<{ status: string; superseded_by: string | null }>(
      db.superuser,
      `SELECT status, superseded_by FROM payroll_runs WHERE org_id = $1 ORDER BY created_at`,
      [a.id],
    );
    expect(runs[0]).toEqual({ status: 'superseded', superseded_by: replace.body.job_id });
  });

  it('honours Idempotency-Key', async () => {
    const key = randomUUID();
    const body = { pay_period_start: '2026-10-01', pay_period_end: '2026-10-14' };
    const first = await t.http().post('/api/payroll/run').set(a.headers).set('Idempotency-Key', key).send(body);
    const second = await t.http().post('/api/payroll/run').set(a.headers).set('Idempotency-Key', key).send(body);
    expect(first.status).toBe(202);
    expect(second.body.job_id).toBe(first.body.job_id);
  });

  it('rejects bad periods with 400 and writes nothing', async () => {
    const before = await sql(db.superuser, `SELECT count(*)::int AS n FROM payroll_runs`);
    const bad = [
      { pay_period_start: '2026-11-10', pay_period_end: '2026-11-01' },
      { pay_period_start: '2026-11-01', pay_period_end: '2026-12-15' },
      { pay_period_start: '2026-02-30', pay_period_end: '2026-03-01' },
      { pay_period_start: 'yesterday', pay_period_end: '2026-03-01' },
      { pay_period_start: '2026-11-01', pay_period_end: '2026-11-02', org_id: b.id },
      {},
    ];
    for (const body of bad) {
      const res = await t.http().post('/api/payroll/run').set(a.headers).send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect(await sql(db.superuser, `SELECT count(*)::int AS n FROM payroll_runs`)).toEqual(before);
    expect((await t.http().get('/api/payroll/jobs/not-a-uuid').set(a.headers)).status).toBe(400);
    expect((await t.http().get(`/api/payroll/jobs/${randomUUID()}`).set(a.headers)).status).toBe(404);
    expect((await t.http().post('/api/admin/payroll/control').set(a.headers).send({ action: 'explode' })).status).toBe(
      400,
    );
    expect((await t.http().post('/api/admin/payroll/control').set(a.headers).send({ action: 'pause' })).status).toBe(
      400,
    );
  });

  it('keeps jobs and statements inside their org', async () => {
    // A run still queued or running changes by itself (status, progress), which the isolation
    // check would read as a change made by org B: wait until every run of org A has finished.
    const id = await waitFor(
      async () => {
        const jobs = await t.http().get('/api/payroll/jobs?limit=200').set(a.headers);
        const items = jobs.body.items as { job_id: string; status: string }[];
        const done = items.length > 0 && items.every((j) => (FINAL_STATUSES as string[]).includes(j.status));
        return done ? items[0].job_id : undefined;
      },
      120_000,
      200,
    );
    await expectOrgIsolation(t.http, a, b, [
      {
        path: `/api/payroll/jobs/${id}`,
        id,
        methods: ['get'],
        lists: ['/api/payroll/jobs?limit=200', '/api/payroll/queue-status'],
      },
      { path: `/api/payroll/jobs/${id}/statements`, id, methods: ['get'] },
      { path: `/api/payroll/jobs/${id}/statements.csv`, id, methods: ['get'] },
    ]);
    const control = await t
      .http()
      .post('/api/admin/payroll/control')
      .set(b.headers)
      .send({ action: 'cancel', job_id: id });
    expect(control.status).toBe(404);
  });
  it('every status change of every run appended its event row', async () => {
    expect(await runsWithBrokenHistory(db.superuser)).toEqual([]);
  });
});
