import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  createTestWorker,
  runApp,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';

/** Seconds since login and since the last heartbeat, the session's call count, a pending status. */
type Seed = { loginAgo?: number; heartbeatAgo?: number; activeCalls?: number; pending?: 'away' | 'offline' };

/** An agent with an open session and a presence row, written as superuser (no RLS). */
async function seedSession(db: TestDatabase, orgId: string, name: string, s: Seed = {}): Promise<string> {
  const [row] = await sql<{ id: string }>(
    db.superuser,
    `WITH a AS (INSERT INTO call_agents (org_id, name) VALUES ($1, $2) RETURNING id),
     s AS (INSERT INTO agent_sessions (org_id, agent_id, login_at, capacity, active_calls, pending_status, idle_since)
       SELECT $1, a.id, now() - make_interval(secs => $3), 1, $4, $5, now() - make_interval(secs => $3) FROM a RETURNING id)
     INSERT INTO agent_presence (session_id, org_id, last_heartbeat, device_connected)
     SELECT s.id, $1, now() - make_interval(secs => $6), true FROM s RETURNING session_id AS id`,
    [orgId, name, s.loginAgo ?? 60, s.activeCalls ?? 0, s.pending ?? null, s.heartbeatAgo ?? 0],
  );
  return row.id;
}

/** A call of the session, pointed at by its current_call_id. */
async function seedCall(db: TestDatabase, orgId: string, sessionId: string, status: string): Promise<string> {
  const [call] = await sql<{ id: string }>(
    db.superuser,
    `INSERT INTO calls (org_id, from_number, status, agent_id, session_id, offer_count, assigned_at, reserved_until, ended_at)
     SELECT $1, '+15550100', $3, s.agent_id, s.id, 1, now() - interval '2 minutes',
       CASE WHEN $3 = 'ringing' THEN now() - interval '1 minute' END,
       CASE WHEN $3 IN ('completed', 'abandoned', 'failed') THEN now() - interval '1 minute' END
     FROM agent_sessions s WHERE s.id = $2 RETURNING id`,
    [orgId, sessionId, status],
  );
  await sql(db.superuser, `UPDATE agent_sessions SET current_call_id = $2 WHERE id = $1`, [sessionId, call.id]);
  return call.id;
}

/** The task's JSON result among the log lines: the line that starts with its first key. */
function taskJson(output: string, firstKey: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.startsWith(`{"${firstKey}"`));
  if (!line) throw new Error(`no task result in output:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** The sweep counts, each kind at zero (the API pins these eight names). */
const zero = Object.fromEntries(
  'taken_offline sessions_closed call_pointers_cleared active_calls_recomputed pending_applied offers_released stale_on_call_flagged queued_calls_offered'
    .split(' ')
    .map((k) => [k, 0]),
);

describe('session sweeper: stuck states, readiness and cleanup', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The api role runs no cron, so nothing fixes the seeded states behind the test's back; a
    // long offer timeout keeps the sweeper's re-offer from expiring while the CLI checks run.
    t = await createTestHttpApp({ db, role: 'api', env: { CALL_OFFER_TIMEOUT_SECONDS: '600' } });
    a = await createTestOrg(t.app, 'Calls A');
    b = await createTestOrg(t.app, 'Calls B');
    env = { DATABASE_URL: db.runtime, DATABASE_ADMIN_URL: db.admin, DATABASE_SYSTEM_URL: db.system };
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('counts every stuck state, fixes them per org (HTTP) and across orgs (task), deleting nothing', async () => {
    const pointer = await seedSession(db, a.id, 'a: pointer at a completed call', { activeCalls: 1 });
    const completed = await seedCall(db, a.id, pointer, 'completed');
    const phantom = await seedSession(db, a.id, 'b: on a call with no call', { activeCalls: 1 });
    const abandoned = await seedSession(db, a.id, 'c: gone 3 h', { loginAgo: 3 * 3600, heartbeatAgo: 3 * 3600 });
    const ringing = await seedSession(db, a.id, 'd: expired offer', { activeCalls: 1 });
    const offer = await seedCall(db, a.id, ringing, 'ringing');
    const stale = await seedSession(db, a.id, 'e: silent on a call', { activeCalls: 1, heartbeatAgo: 600 });
    const talking = await seedCall(db, a.id, stale, 'in_progress');
    const pending = await seedSession(db, a.id, 'f: away after the call', { pending: 'away' });
    const silent = await seedSession(db, a.id, 'g: silent, no call', { heartbeatAgo: 600 });
    const otherOrg = await seedSession(db, b.id, 'b org: phantom call', { activeCalls: 1 });
    const rowCounts = () =>
      sql<{ sessions: number; calls: number; presence: number }>(
        db.superuser,
        `SELECT (SELECT count(*)::int FROM agent_sessions) AS sessions, (SELECT count(*)::int FROM calls) AS calls,
           (SELECT count(*)::int FROM agent_presence) AS presence`,
      );
    const before = await rowCounts();

    // One of each stuck state in org A; the phantom count is stuck twice (a and b).
    const expectedA = {
      ...Object.fromEntries(Object.keys(zero).map((k) => [k, 1])),
      active_calls_recomputed: 2,
      queued_calls_offered: 0,
    };
    const readiness = await t.http().get('/api/sessions/readiness').set(a.headers);
    expect(readiness.status).toBe(200);
    expect(readiness.body).toMatchObject({
      status: 'NEEDS_SESSION_CLEANUP',
      schema_ready: true,
      sessions_clean: false,
      counts: { ...expectedA, open_sessions: 7, live_calls: 2, queued_calls: 0 },
    });
    const cliBefore = await runApp(['task', 'sessions-readiness'], env);
    expect(cliBefore.code).toBe(1);
    expect(taskJson(cliBefore.output, 'status')).toMatchObject({
      status: 'NEEDS_SESSION_CLEANUP',
      counts: { ...expectedA, active_calls_recomputed: 3, open_sessions: 8 },
    });

    const cleanup = await t.http().post('/api/cron/session-cleanup').set(a.headers);
    expect(cleanup.status).toBe(200);
    expect(cleanup.body).toEqual(expectedA);
    const after = await t.http().get('/api/sessions/readiness').set(a.headers);
    expect(after.body).toMatchObject({ status: 'READY', sessions_clean: true, counts: zero });

    // The HTTP sweep was the caller's org only: org B is still stuck, so the all-org report is not ready.
    const [bSession] = await sql(db.superuser, `SELECT active_calls FROM agent_sessions WHERE id = $1`, [otherOrg]);
    expect(bSession.active_calls).toBe(1);
    const task = await runApp(['task', 'session-cleanup'], env);
    expect(task.code).toBe(0);
    expect(taskJson(task.output, 'call_pointers_cleared')).toEqual({ ...zero, active_calls_recomputed: 1 });
    const [cliAfter, again] = await Promise.all([
      runApp(['task', 'sessions-readiness'], env),
      runApp(['task', 'session-cleanup'], env),
    ]);
    expect(cliAfter.code).toBe(0);
    expect(taskJson(cliAfter.output, 'status')).toMatchObject({ status: 'READY', schema_ready: true });
    expect(again.code).toBe(0);
    expect(taskJson(again.output, 'call_pointers_cleared')).toEqual(zero);

    expect(await rowCounts()).toEqual(before);
    const sessions = new Map(
      (
        await sql<Record<string, unknown> & { id: string }>(
          db.superuser,
          `SELECT s.id, s.status, s.logout_at, s.end_reason, s.active_calls, s.current_call_id, s.pending_status,
             s.stale_flagged_at IS NOT NULL AS flagged, s.offer_cooldown_until IS NOT NULL AS cooling,
             p.device_connected, s.logout_at = p.last_heartbeat AS closed_at_last_heartbeat,
             (SELECT c.status FROM calls c WHERE c.id = s.current_call_id) AS call_status
           FROM agent_sessions s JOIN agent_presence p ON p.session_id = s.id`,
        )
      ).map((r) => [r.id, r]),
    );
    const offerNow = (await sql(db.superuser, `SELECT status, session_id FROM calls WHERE id = $1`, [offer]))[0];
    expect(sessions.get(pointer)).toMatchObject({ status: 'available', logout_at: null });
    // The released offer went back to the queue and was offered again to a free agent.
    expect(['queued', 'ringing']).toContain(offerNow.status);
    expect(offerNow.session_id).not.toBe(ringing);
    if (offerNow.status === 'ringing') expect([pointer, phantom]).toContain(offerNow.session_id);
    for (const id of [pointer, phantom]) {
      const s = sessions.get(id)!;
      const holdsOffer = offerNow.session_id === id;
      expect(s).toMatchObject({ active_calls: holdsOffer ? 1 : 0, current_call_id: holdsOffer ? offer : null });
    }
    expect(sessions.get(pointer)!.current_call_id).not.toBe(completed);
    expect(sessions.get(abandoned)).toMatchObject({
      status: 'offline',
      end_reason: 'abandoned',
      closed_at_last_heartbeat: true,
      device_connected: false,
    });
    expect(sessions.get(ringing)).toMatchObject({ active_calls: 0, current_call_id: null, cooling: true });
    // Silent on a live call: flagged, left on the call and available.
    expect(sessions.get(stale)).toMatchObject({ status: 'available', logout_at: null, flagged: true });
    expect(sessions.get(stale)).toMatchObject({
      active_calls: 1,
      current_call_id: talking,
      call_status: 'in_progress',
    });
    expect(sessions.get(pending)).toMatchObject({ status: 'away', pending_status: null, logout_at: null });
    expect(sessions.get(silent)).toMatchObject({ status: 'offline', logout_at: null, device_connected: false });

    const history = await sql<{ entry: string }>(
      db.superuser,
      `SELECT concat_ws(' ', session_id, actor, reason, from_status || '>' || to_status) AS entry FROM agent_status_history`,
    );
    expect(history.map((h) => h.entry).sort()).toEqual(
      [
        `${pointer} system call_pointer_cleared available>available`,
        `${pointer} system active_calls_recomputed available>available`,
        `${phantom} system active_calls_recomputed available>available`,
        `${ringing} system offer_expired available>available`,
        `${pending} system pending_status_applied available>away`,
        `${abandoned} system abandoned available>offline`,
        `${silent} system heartbeat_timeout available>offline`,
        `${stale} system stale_on_live_call available>available`,
        `${otherOrg} system active_calls_recomputed available>available`,
      ].sort(),
    );
    const events = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM domain_events WHERE type = 'session.status_changed' AND data->>'actor' = 'system'`,
    );
    expect(events[0].n).toBe(3);
  });

  it('needs sessions:admin to run the sweeper and sessions:read to see readiness', async () => {
    const created = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'viewer', scopes: ['sessions:read'] });
    expect(created.status).toBe(201);
    const viewer = { 'X-API-Key': created.body.api_key as string };
    const refused = await t.http().post('/api/cron/session-cleanup').set(viewer);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    expect((await t.http().get('/api/sessions/readiness').set(viewer)).status).toBe(200);
    expect((await t.http().get('/api/sessions/readiness')).status).toBe(401);
  });

  it('reports NEEDS_MIGRATION when the schema lacks an invariant, NOT_READY (exit 1) without a database', async () => {
    await sql(db.superuser, 'DROP INDEX agent_sessions_one_open');
    const missing = await t.http().get('/api/sessions/readiness').set(a.headers);
    expect(missing.body).toMatchObject({ status: 'NEEDS_MIGRATION', schema_ready: false, pending_migrations: [] });
    expect(missing.body.missing_schema).toEqual(['index:agent_sessions_one_open']);

    const nowhere = 'postgres://nobody:nothing@127.0.0.1:1/none';
    const env = { DATABASE_URL: nowhere, DATABASE_SYSTEM_URL: nowhere, DATABASE_CONNECT_TIMEOUT_MS: '500' };
    const res = await runApp(['task', 'sessions-readiness'], env);
    expect(res.code).toBe(1);
    expect(taskJson(res.output, 'status')).toMatchObject({ status: 'NOT_READY', counts: null });
  });
});

describe('session sweeper on the cluster cron (two workers)', () => {
  let db: TestDatabase;
  let workers: INestApplicationContext[] = [];
  const env = { SESSION_OFFLINE_AFTER_SECONDS: '2', SESSION_CLEANUP_INTERVAL_SECONDS: '1' };

  beforeAll(async () => {
    db = await createTestDatabase();
    workers = await Promise.all([createTestWorker({ db, env }), createTestWorker({ db, env })]);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await db?.drop();
  });

  it('takes a silent agent offline while one that keeps beating stays available', async () => {
    const org = randomUUID();
    const silent = await seedSession(db, org, 'silent');
    const beating = await seedSession(db, org, 'beating');
    const beat = () =>
      sql(db.superuser, `UPDATE agent_presence SET last_heartbeat = now() WHERE session_id = $1`, [beating]);
    const timer = setInterval(() => void beat().catch(() => undefined), 300);
    const status = async (id: string) =>
      (await sql<{ status: string }>(db.superuser, `SELECT status FROM agent_sessions WHERE id = $1`, [id]))[0].status;
    try {
      await waitFor(async () => (await status(silent)) === 'offline', 20000, 200);
      // Give the beating agent a few more ticks in which it must not be touched.
      await new Promise((r) => setTimeout(r, 2500));
      expect(await status(beating)).toBe('available');
    } finally {
      clearInterval(timer);
    }
    const history = await sql(db.superuser, `SELECT session_id, actor, reason FROM agent_status_history`);
    expect(history).toEqual([{ session_id: silent, actor: 'system', reason: 'heartbeat_timeout' }]);
  });

  it('runs cron.sessions.sweep once per tick across both workers', async () => {
    const sweepJobs = () =>
      sql<{ tick: string; state: string }>(
        db.superuser,
        `SELECT data->>'tick_at' AS tick, state FROM pgboss.job WHERE name = 'cron.sessions.sweep'`,
      );
    await waitFor(async () => (await sweepJobs()).filter((j) => j.state === 'completed').length >= 4, 20000, 200);
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    const jobs = await sweepJobs();
    const ticks = await sql<{ tick_at: Date }>(
      db.superuser,
      `SELECT tick_at FROM cluster_cron_ticks WHERE name = 'sessions.sweep' ORDER BY tick_at`,
    );
    const done = jobs.filter((j) => j.state === 'completed');
    expect(done.length).toBeGreaterThanOrEqual(4);
    expect(new Set(done.map((j) => j.tick)).size).toBe(done.length);
    // One claimed tick, one job: never a second job for a tick, never a tick without its job.
    expect(jobs.length).toBe(ticks.length);
    expect(new Set(jobs.map((j) => j.tick))).toEqual(new Set(ticks.map((x) => x.tick_at.toISOString())));
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i].tick_at.getTime() - ticks[i - 1].tick_at.getTime()).toBeGreaterThanOrEqual(1000);
    }
  });
});
