import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { driverStatement, ticketLine } from '../../src/payroll/calculator';
import type { DriverInput, TicketInput } from '../../src/payroll/calculator';
import { PayrollCalculator } from '../../src/payroll/runs/payroll-calculator.service';
import { PERIOD, runsWithBrokenHistory, seedPayroll } from './fixtures/payroll-seed';

const FAST = {
  PAYROLL_POLL_INTERVAL_MS: '50',
  PAYROLL_CHECKPOINT_EVERY: '10',
  PAYROLL_RETRY_BASE_MS: '100',
  PAYROLL_RETRY_CAP_MS: '1000',
  PAYROLL_LEASE_SECONDS: '5',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  LOG_LEVEL: 'error',
};
const DONE = ['completed', 'completed_with_flags', 'failed', 'cancelled'];
const PERIOD_BODY = { pay_period_start: PERIOD.start, pay_period_end: PERIOD.end };

interface RunEventRow {
  from_status: string | null;
  to_status: string;
  actor: string;
  reason: string | null;
  at: Date;
}

async function finished(t: TestHttpApp, org: TestOrg, jobId: string, timeoutMs = 60000) {
  return waitFor(
    async () => {
      const res = await t.http().get(`/api/payroll/jobs/${jobId}`).set(org.headers);
      return DONE.includes(res.body.status) ? res.body : undefined;
    },
    timeoutMs,
    100,
  );
}

/** The real calculator, except that the first `failures` ticket lines throw (one per attempt). */
function faultyCalculator(failures: number) {
  let calls = 0;
  return {
    ticketLine(driver: DriverInput, ticket: TicketInput) {
      if (calls++ < failures) throw new Error('injected fault');
      return ticketLine(driver, ticket);
    },
    driverStatement: (...args: Parameters<typeof driverStatement>) => {
      if (calls < failures) throw new Error('injected fault');
      return driverStatement(...args);
    },
  };
}

async function runEvents(db: TestDatabase, runId: string): Promise<RunEventRow[]> {
  return sql<RunEventRow>(
    db.superuser,
    `SELECT from_status, to_status, actor, reason, at FROM payroll_run_events WHERE run_id = $1 ORDER BY at, id`,
    [runId],
  );
}

async function startRun(t: TestHttpApp, org: TestOrg): Promise<string> {
  const res = await t.http().post('/api/payroll/run').set(org.headers).send(PERIOD_BODY);
  expect(res.status).toBe(202);
  return res.body.job_id as string;
}

const noDuplicateLines = (db: TestDatabase) =>
  sql(db.superuser, `SELECT run_id, line_key, kind FROM payroll_run_lines GROUP BY 1, 2, 3 HAVING count(*) > 1`);

describe('payroll retries with injected faults', () => {
  let db: TestDatabase;
  let t: TestHttpApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('retries a failing attempt with growing backoff, counts the failed attempts and completes', async () => {
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: { ...FAST, PAYROLL_RETRY_BASE_MS: '300', PAYROLL_RETRY_CAP_MS: '5000' },
      overrides: [{ provide: PayrollCalculator, useValue: faultyCalculator(2) }],
    });
    const org = await createTestOrg(t.app, 'Flaky Haulers', 'pro');
    await seedPayroll(db.superuser, org.id, 6, 60);
    const jobId = await startRun(t, org);
    const job = await finished(t, org, jobId);
    expect(['completed', 'completed_with_flags']).toContain(job.status);
    // Failed attempts are counted; the successful one is not.
    expect(job.attempts).toBe(2);
    expect(job.last_error).toBeNull();
    expect(job.progress).toEqual({ processed_tickets: 60, total_tickets: 60 });
    expect(await noDuplicateLines(db)).toEqual([]);

    const events = await runEvents(db, jobId);
    expect(events.map((e) => `${e.from_status}->${e.to_status}`)).toEqual([
      'null->queued',
      'queued->running',
      'running->queued',
      'queued->running',
      'running->queued',
      'queued->running',
      `running->${job.status}`,
    ]);
    expect(events[2].reason).toMatch(/^attempt 1 failed: .*injected fault/);
    expect(events[4].reason).toMatch(/^attempt 2 failed: .*injected fault/);
    expect(events[2].actor).toBe('system:payroll-worker');
    // Back-off: base 300 ms then 600 ms, ±20 % jitter; the run is never claimed before its time.
    const gap1 = events[3].at.getTime() - events[2].at.getTime();
    const gap2 = events[5].at.getTime() - events[4].at.getTime();
    expect(gap1).toBeGreaterThanOrEqual(240);
    expect(gap2).toBeGreaterThanOrEqual(480);
    expect(gap2).toBeGreaterThan(gap1);
  });

  it('fails a run after PAYROLL_MAX_ATTEMPTS, publishes payroll.run.failed, and an admin retry completes it', async () => {
    const alwaysFails = faultyCalculator(Number.POSITIVE_INFINITY);
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: { ...FAST, PAYROLL_MAX_ATTEMPTS: '3' },
      overrides: [{ provide: PayrollCalculator, useValue: alwaysFails }],
    });
    const org = await createTestOrg(t.app, 'Broken Haulers', 'pro');
    await seedPayroll(db.superuser, org.id, 6, 40);
    const jobId = await startRun(t, org);
    const job = await finished(t, org, jobId);
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(3);
    expect(job.last_error).toBe('injected fault');
    expect(job.finished_at).not.toBeNull();
    expect(job.progress.processed_tickets).toBe(0);
    const transitions = (await runEvents(db, jobId)).map((e) => `${e.from_status}->${e.to_status}`);
    expect(transitions.filter((x) => x === 'running->queued')).toHaveLength(2);
    expect(transitions[transitions.length - 1]).toBe('running->failed');
    const failedEvents = await sql<{ data: { run_id: string; attempts: number; error: string } }>(
      db.superuser,
      `SELECT data FROM domain_events WHERE org_id = $1 AND type = 'payroll.run.failed'`,
      [org.id],
    );
    expect(failedEvents).toHaveLength(1);
    expect(failedEvents[0].data).toMatchObject({ run_id: jobId, attempts: 3, error: 'injected fault' });
    const completedEvents = await sql(
      db.superuser,
      `SELECT 1 FROM domain_events WHERE org_id = $1 AND type = 'payroll.run.completed'`,
      [org.id],
    );
    expect(completedEvents).toEqual([]);

    // A normal worker on the same database; the failing one goes away first.
    await t.close();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    const control = (body: object) => t!.http().post('/api/admin/payroll/control').set(org.headers).send(body);
    const cancelFailed = await control({ action: 'cancel', job_id: jobId });
    expect(cancelFailed.status).toBe(409);
    const retry = await control({ action: 'retry', job_id: jobId });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ action: 'retry', job_id: jobId, status: 'queued', affected: 1 });
    const done = await finished(t, org, jobId);
    expect(['completed', 'completed_with_flags']).toContain(done.status);
    expect(done.attempts).toBe(0);
    expect(done.last_error).toBeNull();
    expect(done.progress).toEqual({ processed_tickets: 40, total_tickets: 40 });
    expect(await noDuplicateLines(db)).toEqual([]);
    const retried = (await runEvents(db, jobId)).find((e) => e.from_status === 'failed');
    expect(retried).toMatchObject({ to_status: 'queued', reason: 'retried by admin' });
    expect(retried!.actor).toMatch(/^api_key:/);
    const audit = await sql<{ target_id: string; data: { from_status: string } }>(
      db.superuser,
      `SELECT target_id, data FROM audit_events WHERE org_id = $1 AND action = 'payroll.run.retry'`,
      [org.id],
    );
    expect(audit).toEqual([{ target_id: jobId, data: { from_status: 'failed' } }]);
    // Only a failed run can be retried.
    expect((await control({ action: 'retry', job_id: jobId })).status).toBe(409);
  });
  it('every status change of every run appended its event row', async () => {
    expect(await runsWithBrokenHistory(db.superuser)).toEqual([]);
  });
});
