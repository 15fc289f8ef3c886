import { randomUUID } from 'node:crypto';
import { DatabaseService } from '../../libs/database';
import { MetricsService } from '../../libs/observability';
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
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import { PERIOD, runsWithBrokenHistory, seedPayroll } from './fixtures/payroll-seed';

const FAST = {
  PAYROLL_POLL_INTERVAL_MS: '100',
  PAYROLL_CHECKPOINT_EVERY: '10',
  PAYROLL_RETRY_BASE_MS: '100',
  PAYROLL_RETRY_CAP_MS: '1000',
  PAYROLL_LEASE_SECONDS: '5',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  LOG_LEVEL: 'error',
};
const DONE = ['completed', 'completed_with_flags', 'failed', 'cancelled'];
const OCTOBER = { pay_period_start: '2026-10-01', pay_period_end: '2026-10-14' };
/**
 * Waits until the dispatcher of `app` has made `n` more passes: "nothing started" is then
 * checked against passes that could have started it, however slow the machine is.
 */
async function dispatchPasses(app: TestHttpApp, n: number): Promise<void> {
  const counter = app.app.get(MetricsService).counter('payroll_dispatch_passes_total', '');
  const count = async () => (await counter.get()).values[0]?.value ?? 0;
  const target = (await count()) + n;
  await waitFor(async () => (await count()) >= target, 30000);
}

interface Job {
  status: string;
  paused_reason: string | null;
  progress: { processed_tickets: number; total_tickets: number };
  [field: string]: unknown;
}

async function job(t: TestHttpApp, org: TestOrg, id: string): Promise<Job> {
  const res = await t.http().get(`/api/payroll/jobs/${id}`).set(org.headers);
  expect(res.status).toBe(200);
  return res.body as Job;
}

/** Polls the job until `ok` holds for it, and returns it. */
async function until(t: TestHttpApp, org: TestOrg, id: string, ok: (j: Job) => boolean, timeoutMs = 90000) {
  return waitFor(async () => ((j) => (ok(j) ? j : undefined))(await job(t, org, id)), timeoutMs, 100);
}
const finished = (t: TestHttpApp, org: TestOrg, id: string) => until(t, org, id, (j) => DONE.includes(j.status));

async function startRun(
  t: TestHttpApp,
  org: TestOrg,
  period = { pay_period_start: PERIOD.start, pay_period_end: PERIOD.end },
) {
  const res = await t.http().post('/api/payroll/run').set(org.headers).send(period);
  expect(res.status).toBe(202);
  return res.body.job_id as string;
}

const control = (t: TestHttpApp, headers: Record<string, string>, body: object) =>
  t.http().post('/api/admin/payroll/control').set(headers).send(body);

const queueStatus = async (t: TestHttpApp, org: TestOrg) =>
  (await t.http().get('/api/payroll/queue-status').set(org.headers).expect(200)).body;

const heldSlots = (db: TestDatabase, runId?: string) =>
  sql(db.system, `SELECT slot_no FROM payroll_slots WHERE run_id = coalesce($1, run_id)`, [runId ?? null]);

const duplicateLines = (db: TestDatabase) =>
  sql(db.superuser, `SELECT run_id, line_key, kind FROM payroll_run_lines GROUP BY 1, 2, 3 HAVING count(*) > 1`);

const auditOrgs = async (db: TestDatabase, action: string) =>
  (
    await sql<{ org_id: string }>(
      db.superuser,
      `SELECT org_id FROM audit_events WHERE action = $1 AND actor_type = 'platform_key' ORDER BY org_id`,
      [action],
    )
  ).map((r) => r.org_id);

describe('payroll control: health gate and queued runs', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    // RSS is always above 1 MB: this worker's dispatcher never starts a run.
    t = await createTestHttpApp({ db, role: 'all', env: { ...FAST, PAYROLL_MAX_RSS_MB: '1' } });
    a = await createTestOrg(t.app, 'Gated Haulers', 'pro');
    await seedPayroll(db.superuser, a.id, 6, 60);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('keeps runs queued behind the memory gate; pauses, resumes and cancels queued runs', async () => {
    const runA = await startRun(t, a);
    const runB = await startRun(t, a, OCTOBER);
    const gated = await waitFor(async () => ((s) => (s.paused_reason ? s : undefined))(await queueStatus(t, a)), 5000);
    expect(gated.paused_reason).toMatch(/^memory: worker RSS \d+ MB is above PAYROLL_MAX_RSS_MB 1$/);
    expect(gated.paused_all).toBe(false);
    await dispatchPasses(t, 10);
    expect((await job(t, a, runA)).status).toBe('queued');
    expect((await job(t, a, runB)).status).toBe('queued');
    const started = await sql(
      db.superuser,
      `SELECT 1 FROM payroll_run_events WHERE org_id = $1 AND to_status = 'running'`,
      [a.id],
    );
    expect(started).toEqual([]);

    const pause = await control(t, a.headers, { action: 'pause', job_id: runA });
    expect(pause.status).toBe(200);
    expect(pause.body).toEqual({ action: 'pause', job_id: runA, status: 'paused', affected: 1 });
    expect(await job(t, a, runA)).toMatchObject({ status: 'paused', paused_reason: 'paused by admin' });
    expect((await control(t, a.headers, { action: 'pause', job_id: runA })).status).toBe(409);
    const resume = await control(t, a.headers, { action: 'resume', job_id: runA });
    expect(resume.body).toMatchObject({ status: 'queued' });
    await dispatchPasses(t, 3);
    expect(await job(t, a, runA)).toMatchObject({ status: 'queued', paused_reason: null });

    const cancel = await control(t, a.headers, { action: 'cancel', job_id: runB });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    expect((await job(t, a, runB)).finished_at).not.toBeNull();
    expect((await control(t, a.headers, { action: 'cancel', job_id: runB })).status).toBe(409);
    expect((await control(t, a.headers, { action: 'pause', job_id: runA })).body.status).toBe('paused');

    // A worker without the gate on the same database: it starts queued runs, not paused ones.
    await t.close();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    await waitFor(async () => (await queueStatus(t, a)).paused_reason === null, 5000);
    await dispatchPasses(t, 5);
    expect((await job(t, a, runA)).status).toBe('paused');
    expect((await control(t, a.headers, { action: 'resume', job_id: runA })).status).toBe(200);
    const done = await finished(t, a, runA);
    expect(['completed', 'completed_with_flags']).toContain(done.status);
    expect(done.progress).toEqual({ processed_tickets: 60, total_tickets: 60 });
    expect((await job(t, a, runB)).status).toBe('cancelled');

    const completedCancel = await control(t, a.headers, { action: 'cancel', job_id: runA });
    expect(completedCancel.status).toBe(409);
    expect(completedCancel.headers['content-type']).toMatch(/problem\+json/);
    const audit = await sql<{ action: string; n: number }>(
      db.superuser,
      `SELECT action, count(*)::int AS n FROM audit_events WHERE org_id = $1 AND action LIKE 'payroll.run.%'
       AND action <> 'payroll.run.requested' GROUP BY action ORDER BY action`,
      [a.id],
    );
    expect(audit).toEqual([
      { action: 'payroll.run.cancel', n: 1 },
      { action: 'payroll.run.pause', n: 2 },
      { action: 'payroll.run.resume', n: 2 },
    ]);
  });

  it('rejects bad control requests', async () => {
    const send = (body: object, headers = a.headers) => control(t, headers, body);
    const noJob = await send({ action: 'pause' });
    expect(noJob.status).toBe(400);
    expect(noJob.headers['content-type']).toMatch(/problem\+json/);
    expect((await send({ action: 'cancel', job_id: 'not-a-uuid' })).status).toBe(400);
    expect((await send({ action: 'cancel', job_id: randomUUID() })).status).toBe(404);
    expect((await send({ action: 'explode', job_id: randomUUID() })).status).toBe(400);
    expect((await send({})).status).toBe(400);

    const created = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'viewer', scopes: ['payroll:read'] });
    expect(created.status).toBe(201);
    const viewer = { 'X-API-Key': created.body.api_key as string };
    const [run] = await sql<{ id: string }>(db.superuser, `SELECT id FROM payroll_runs WHERE org_id = $1 LIMIT 1`, [
      a.id,
    ]);
    expect((await send({ action: 'cancel', job_id: run.id }, viewer)).status).toBe(403);
    expect((await t.http().get('/api/payroll/queue-status').set(viewer)).status).toBe(200);
    // An org owner has payroll:admin but not platform:admin.
    expect((await send({ action: 'pause_all' })).status).toBe(403);
    expect((await send({ action: 'resume_all' })).status).toBe(403);
    const [queue] = await sql<{ paused: boolean }>(db.system, `SELECT paused FROM payroll_control WHERE id = 1`);
    expect(queue.paused).toBe(false);
  });
  it('every status change of every run appended its event row', async () => {
    expect(await runsWithBrokenHistory(db.superuser)).toEqual([]);
  });
});

describe('payroll control: running runs and the whole queue', () => {
  const TICKETS = 3000;
  let db: TestDatabase;
  let t: TestHttpApp;
  let platform: Record<string, string>;
  const orgs: Record<'a' | 'b' | 'c' | 'd', TestOrg> = {} as never;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    for (const name of ['a', 'b', 'c', 'd'] as const) orgs[name] = await createTestOrg(t.app, `Haulers ${name}`, 'pro');
    for (const name of ['a', 'b', 'c'] as const) await seedPayroll(db.superuser, orgs[name].id, 12, TICKETS);
    await seedPayroll(db.superuser, orgs.d.id, 6, 30);
    const keys = t.app.get(ApiKeysService);
    const key = await t.app.get(DatabaseService).system.transaction((m) => keys.insertPlatformKey(m, 'ops', 'test'));
    platform = { 'X-API-Key': key };
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const runningWithProgress = (org: TestOrg, id: string) =>
    until(t, org, id, (j) => j.status === 'running' && j.progress.processed_tickets > 0, 30000);
  const paused = (org: TestOrg, id: string) => until(t, org, id, (j) => j.status === 'paused', 10000);

  it('pauses a running run at its next checkpoint, frees its slot, and resumes it from its cursor', async () => {
    const { a } = orgs;
    const runId = await startRun(t, a);
    await runningWithProgress(a, runId);
    const pause = await control(t, a.headers, { action: 'pause', job_id: runId });
    expect(pause.status).toBe(200);
    expect(pause.body.status).toBe('running'); // requested; the worker stops at its next checkpoint
    const stopped = await paused(a, runId);
    expect(stopped.paused_reason).toBe('paused by admin');
    expect(stopped.progress.processed_tickets).toBeLessThan(TICKETS);
    await waitFor(async () => (await heldSlots(db, runId)).length === 0, 2000);
    await dispatchPasses(t, 5);
    const still = await job(t, a, runId);
    expect(still.status).toBe('paused');
    expect(still.progress.processed_tickets).toBe(stopped.progress.processed_tickets);

    const resume = await control(t, a.headers, { action: 'resume', job_id: runId });
    expect(resume.body.status).toBe('queued');
    const done = await finished(t, a, runId);
    expect(['completed', 'completed_with_flags']).toContain(done.status);
    expect(done.progress).toEqual({ processed_tickets: TICKETS, total_tickets: TICKETS });
    expect(done.paused_reason).toBeNull();
    expect(await duplicateLines(db)).toEqual([]);
    const [lines] = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM payroll_run_lines WHERE run_id = $1 AND kind = 'ticket'`,
      [runId],
    );
    expect(lines.n).toBe(TICKETS);
    const events = await sql<{ t: string; actor: string; reason: string | null }>(
      db.superuser,
      `SELECT coalesce(from_status, '-') || '>' || to_status AS t, actor, reason FROM payroll_run_events WHERE run_id = $1 ORDER BY at, id`,
      [runId],
    );
    expect(events.map((e) => e.t)).toEqual([
      '->queued',
      'queued>running',
      'running>paused',
      'paused>queued',
      'queued>running',
      `running>${done.status}`,
    ]);
    expect(events[2]).toMatchObject({ actor: 'system:payroll-worker', reason: 'paused by admin' });
  });

  it('pause_all (platform:admin) parks running runs and holds new ones; resume_all runs them all', async () => {
    const { b, c, d } = orgs;
    const runB = await startRun(t, b);
    const runC = await startRun(t, c);
    await runningWithProgress(b, runB);
    await runningWithProgress(c, runC);

    const pauseAll = await control(t, platform, { action: 'pause_all' });
    expect(pauseAll.status).toBe(200);
    expect(pauseAll.body).toEqual({ action: 'pause_all', job_id: null, status: null, affected: 2 });
    for (const [org, id] of [
      [b, runB],
      [c, runC],
    ] as const) {
      const j = await paused(org, id);
      expect(j.paused_reason).toBe('pause_all');
      expect(j.progress.processed_tickets).toBeLessThan(TICKETS);
    }
    await waitFor(async () => (await heldSlots(db)).length === 0, 2000);
    const progress = (await job(t, b, runB)).progress.processed_tickets;

    const runD = await startRun(t, d);
    await dispatchPasses(t, 10);
    expect((await job(t, d, runD)).status).toBe('queued');
    expect((await job(t, b, runB)).progress.processed_tickets).toBe(progress);
    const status = await queueStatus(t, d);
    expect(status).toMatchObject({ paused_all: true, paused_reason: 'pause_all', running_global: 0 });
    expect(status.org.queued).toEqual([{ job_id: runD, position: 1 }]);

    const resumeAll = await control(t, platform, { action: 'resume_all' });
    expect(resumeAll.status).toBe(200);
    expect(resumeAll.body).toMatchObject({ action: 'resume_all', affected: 2 });
    for (const [org, id] of [
      [b, runB],
      [c, runC],
      [d, runD],
    ] as const) {
      const j = await finished(t, org, id);
      expect(['completed', 'completed_with_flags']).toContain(j.status);
      expect(j.progress.processed_tickets).toBe(j.progress.total_tickets);
    }
    expect((await job(t, b, runB)).progress.total_tickets).toBe(TICKETS);
    expect(await duplicateLines(db)).toEqual([]);
    expect(await queueStatus(t, d)).toMatchObject({ paused_all: false, paused_reason: null });
    expect(await auditOrgs(db, 'payroll.queue.pause_all')).toEqual([b.id, c.id].sort());
    expect(await auditOrgs(db, 'payroll.queue.resume_all')).toEqual([b.id, c.id, d.id].sort());
  });
  it('every status change of every run appended its event row', async () => {
    expect(await runsWithBrokenHistory(db.superuser)).toEqual([]);
  });
});
