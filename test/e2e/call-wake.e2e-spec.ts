import type { INestApplicationContext } from '@nestjs/common';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  createTestWorker,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { seedAgents } from './fixtures/sessions-seed';

/**
 * A call that arrives while the only free agent is in wrap-up or cooling down after a missed
 * offer is queued; it must be offered once time alone makes the agent routable again (no
 * request, no heartbeat change happens then). The sweeper is kept out of the way (an hourly
 * tick) so that only the wake-up can do it; the last test checks the sweeper's own net.
 */
const QUIET_SWEEPER = { SESSION_CLEANUP_INTERVAL_SECONDS: '3600', RATE_LIMIT_PRO_PER_HOUR: '1000000' };

interface CallRow {
  status: string;
  offer_count: number;
  session_id: string | null;
  assigned_at: Date | null;
}

describe('queued calls are offered when an agent becomes routable by time alone', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const q = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => sql<T>(db.superuser, text, values);
  const call = async (id: string) =>
    (await q<CallRow>(`SELECT status, offer_count, session_id, assigned_at FROM calls WHERE id = $1`, [id]))[0];

  async function agentSession(t: TestHttpApp, org: TestOrg, body: object): Promise<string> {
    const agent = await t.http().post('/api/sessions/agents').set(org.headers).send(body).expect(201);
    const login = await t
      .http()
      .post('/api/sessions/login')
      .set(org.headers)
      .send({ agent_id: agent.body.id, device_connected: true })
      .expect(201);
    return login.body.id as string;
  }
  const inbound = async (t: TestHttpApp, org: TestOrg, from: string) =>
    (await t.http().post('/api/calls/inbound').set(org.headers).send({ from }).expect(201)).body as {
      call_id: string;
      status: string;
    };

  describe('wrap-up', () => {
    let t: TestHttpApp;
    let org: TestOrg;
    beforeAll(async () => {
      t = await createTestHttpApp({ db, role: 'all', env: { ...QUIET_SWEEPER, CALL_OFFER_TIMEOUT_SECONDS: '600' } });
      org = await createTestOrg(t.app, 'Wrap-up Org', 'pro');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a call queued during wrap-up rings the agent once the wrap-up is over', async () => {
      const session = await agentSession(t, org, { name: 'Wren', wrap_up_seconds: 2 });
      const first = await inbound(t, org, '+15550001001');
      expect(first.status).toBe('ringing');
      await t.http().post(`/api/calls/${first.call_id}/answer`).set(org.headers).expect(200);
      await t.http().post(`/api/calls/${first.call_id}/end`).set(org.headers).send({}).expect(200);

      const second = await inbound(t, org, '+15550001002');
      expect(second.status).toBe('queued');
      const [{ ready_at: readyAt }] = await q<{ ready_at: Date }>(`SELECT ready_at FROM agent_sessions WHERE id = $1`, [
        session,
      ]);
      const rang = await waitFor(async () => {
        const c = await call(second.call_id);
        return c.status === 'ringing' ? c : null;
      }, 20_000);
      expect(rang).toMatchObject({ session_id: session, offer_count: 1 });
      // Never before the wrap-up ends; how late after it is a figure, not an assertion.
      expect(rang.assigned_at!.getTime()).toBeGreaterThanOrEqual(readyAt.getTime());
      process.stdout.write(`call-wake: offered ${rang.assigned_at!.getTime() - readyAt.getTime()} ms after wrap-up\n`);
      const [{ wake_at: wakeAt }] = await q<{ wake_at: Date | null }>(
        `SELECT wake_at FROM agent_sessions WHERE id = $1`,
        [session],
      );
      expect(wakeAt).toBeNull();
    });
  });

  describe('missed-offer cooldown', () => {
    let t: TestHttpApp;
    let org: TestOrg;
    beforeAll(async () => {
      t = await createTestHttpApp({
        db,
        role: 'all',
        env: { ...QUIET_SWEEPER, CALL_OFFER_TIMEOUT_SECONDS: '1', CALL_MISSED_OFFER_COOLDOWN_SECONDS: '3' },
      });
      org = await createTestOrg(t.app, 'Cooldown Org', 'pro');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a call re-queued by a missed offer rings the same agent again once the cooldown is over', async () => {
      const session = await agentSession(t, org, { name: 'Cole' });
      const offered = await inbound(t, org, '+15550002001');
      expect(offered.status).toBe('ringing');
      // Not answered: the offer times out, the agent cools down, the call waits in the queue.
      const requeued = await waitFor(async () => {
        const [s] = await q<{ offer_cooldown_until: Date | null }>(
          `SELECT offer_cooldown_until FROM agent_sessions WHERE id = $1`,
          [session],
        );
        return s.offer_cooldown_until;
      }, 20_000);
      const again = await waitFor(async () => {
        const c = await call(offered.call_id);
        return c.status === 'ringing' && c.offer_count === 2 ? c : null;
      }, 20_000);
      expect(again.session_id).toBe(session);
      expect(again.assigned_at!.getTime()).toBeGreaterThanOrEqual(requeued.getTime());
      process.stdout.write(
        `call-wake: offered ${again.assigned_at!.getTime() - requeued.getTime()} ms after cooldown\n`,
      );
    });
  });

  describe('two worker replicas', () => {
    let t: TestHttpApp;
    let worker: INestApplicationContext;
    let org: TestOrg;
    beforeAll(async () => {
      const env = { ...QUIET_SWEEPER, CALL_OFFER_TIMEOUT_SECONDS: '600', SESSION_WAKE_INTERVAL_MS: '50' };
      t = await createTestHttpApp({ db, role: 'all', env });
      worker = await createTestWorker({ db, env });
      org = await createTestOrg(t.app, 'Replica Org', 'pro');
    });
    afterAll(async () => {
      await worker?.close();
      await t?.close();
    });

    it('each wake-up is handled once: every queued call rings once, nobody is offered two', async () => {
      const sessions = await seedAgents(db.superuser, org.id, 20, 1);
      await q(`UPDATE agent_sessions SET ready_at = now() + interval '2 seconds' WHERE id = ANY($1::uuid[])`, [
        sessions,
      ]);
      const calls = [];
      for (let i = 0; i < 20; i++) calls.push(await inbound(t, org, `+1555000300${i}`));
      expect(calls.every((c) => c.status === 'queued')).toBe(true);
      await waitFor(async () => {
        const [r] = await q<{ n: number }>(
          `SELECT count(*)::int AS n FROM calls WHERE org_id = $1 AND status = 'ringing'`,
          [org.id],
        );
        return r.n === 20;
      }, 20_000);
      const perCall = await q<{ offer_count: number; assigned: number }>(
        `SELECT c.offer_count, (SELECT count(*)::int FROM domain_events e
           WHERE e.type = 'call.assigned' AND e.data->>'call_id' = c.id::text) AS assigned
         FROM calls c WHERE c.org_id = $1`,
        [org.id],
      );
      expect(perCall).toHaveLength(20);
      expect(perCall.every((c) => c.offer_count === 1 && c.assigned === 1)).toBe(true);
      const perAgent = await q<{ active_calls: number; live: number; wake_at: Date | null }>(
        `SELECT s.active_calls, s.wake_at, (SELECT count(*)::int FROM calls c WHERE c.session_id = s.id) AS live
         FROM agent_sessions s WHERE s.id = ANY($1::uuid[])`,
        [sessions],
      );
      expect(perAgent.every((s) => s.active_calls === 1 && s.live === 1 && s.wake_at === null)).toBe(true);
    });
  });

  describe('with no worker to wake up: readiness and the sweeper', () => {
    let t: TestHttpApp;
    let org: TestOrg;
    beforeAll(async () => {
      t = await createTestHttpApp({ db, role: 'api', env: QUIET_SWEEPER });
      org = await createTestOrg(t.app, 'Sweeper Org', 'pro');
    });
    afterAll(async () => {
      await t?.close();
    });

    it('"queued while a routable agent exists" is a stuck state: readiness says so, a sweep offers the call', async () => {
      const [session] = await seedAgents(db.superuser, org.id, 1, 1);
      // What a wrap-up that ended with nobody watching leaves: a routable agent, a call queued for a while.
      await q(`UPDATE agent_sessions SET ready_at = now() - interval '10 seconds' WHERE id = $1`, [session]);
      const [stranded] = await q<{ id: string }>(
        `INSERT INTO calls (org_id, from_number, status, queued_at) VALUES ($1, '+15550004001', 'queued', now() - interval '10 seconds') RETURNING id`,
        [org.id],
      );
      const before = await t.http().get('/api/sessions/readiness').set(org.headers).expect(200);
      expect(before.body).toMatchObject({ status: 'NEEDS_SESSION_CLEANUP', sessions_clean: false });
      expect(before.body.counts).toMatchObject({ queued_calls_offered: 1, queued_calls: 1 });

      const sweep = await t.http().post('/api/cron/session-cleanup').set(org.headers).expect(200);
      expect(sweep.body.queued_calls_offered).toBe(1);
      expect(await call(stranded.id)).toMatchObject({ status: 'ringing', session_id: session, offer_count: 1 });

      const after = await t.http().get('/api/sessions/readiness').set(org.headers).expect(200);
      expect(after.body).toMatchObject({ status: 'READY', sessions_clean: true });
      expect(after.body.counts.queued_calls_offered).toBe(0);
    });
  });
});
