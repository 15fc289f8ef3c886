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
import { seedAgents } from './fixtures/sessions-seed';

const ENV = { RATE_LIMIT_PRO_PER_HOUR: '100000000', DATABASE_POOL_SIZE: '20', CALL_OFFER_TIMEOUT_SECONDS: '600' };

async function overbooked(url: string): Promise<unknown[]> {
  return sql(
    url,
    `SELECT s.id FROM agent_sessions s
     WHERE s.active_calls > s.capacity
        OR s.active_calls <> (SELECT count(*) FROM calls c WHERE c.session_id = s.id AND c.status IN ('ringing', 'in_progress'))`,
  );
}

describe('inbound call routing', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: ENV });
    org = await createTestOrg(t.app, 'Call Center', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('1,000 concurrent calls over 200 agents of capacity 1: exactly 200 ringing, 800 queued, nobody overbooked; then FIFO', async () => {
    await seedAgents(db.superuser, org.id, 200, 1);
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        t
          .http()
          .post('/api/calls/inbound')
          .set(org.headers)
          .send({ from: `+1555${String(i).padStart(7, '0')}`, external_id: `c-${i}` }),
      ),
    );
    expect(responses.every((r) => r.status === 201)).toBe(true);
    const byStatus = await sql<{ status: string; n: number }>(
      db.superuser,
      `SELECT status, count(*)::int AS n FROM calls GROUP BY status ORDER BY status`,
    );
    expect(byStatus).toEqual([
      { status: 'queued', n: 800 },
      { status: 'ringing', n: 200 },
    ]);
    expect(await overbooked(db.superuser)).toEqual([]);
    const ringingAgents = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(DISTINCT session_id)::int AS n FROM calls WHERE status = 'ringing'`,
    );
    expect(ringingAgents[0].n).toBe(200);
    expect(responses.filter((r) => r.body.status === 'ringing' && r.body.agent_id && r.body.session_id)).toHaveLength(
      responses.filter((r) => r.body.status === 'ringing').length,
    );

    // Answer and end 100 ringing calls: 100 queued calls flow in, oldest first.
    const ringing = await sql<{ id: string }>(
      db.superuser,
      `SELECT id FROM calls WHERE status = 'ringing' ORDER BY assigned_at LIMIT 100`,
    );
    const oldestQueued = await sql<{ id: string }>(
      db.superuser,
      `SELECT id FROM calls WHERE status = 'queued' ORDER BY queued_at, id LIMIT 100`,
    );
    for (const c of ringing) {
      expect((await t.http().post(`/api/calls/${c.id}/answer`).set(org.headers)).status).toBe(200);
    }
    await Promise.all(
      ringing.map((c) => t.http().post(`/api/calls/${c.id}/end`).set(org.headers).send({ reason: 'done' })),
    );
    const promoted = await sql<{ id: string }>(
      db.superuser,
      `SELECT id FROM calls WHERE status = 'ringing' AND offer_count = 1 AND id = ANY($1::uuid[])`,
      [oldestQueued.map((c) => c.id)],
    );
    // An offer takes its agent before it takes a call, so no older call is passed over: exact FIFO.
    expect(promoted.length).toBe(100);
    expect(await overbooked(db.superuser)).toEqual([]);

    // Ending twice never drops a count twice.
    const again = await Promise.all(
      ringing.slice(0, 20).map((c) => t.http().post(`/api/calls/${c.id}/end`).set(org.headers).send({})),
    );
    expect(again.every((r) => r.status === 200 && r.body.status === 'completed')).toBe(true);
    expect(await overbooked(db.superuser)).toEqual([]);

    // Drain everything: every call ends in a defined state, none lost.
    for (let round = 0; round < 10; round++) {
      const live = await sql<{ id: string; status: string }>(
        db.superuser,
        `SELECT id, status FROM calls WHERE status IN ('ringing', 'in_progress')`,
      );
      if (!live.length) break;
      await Promise.all(live.map((c) => t.http().post(`/api/calls/${c.id}/end`).set(org.headers).send({})));
    }
    const final = await sql<{ status: string; n: number }>(
      db.superuser,
      `SELECT status, count(*)::int AS n FROM calls GROUP BY status`,
    );
    expect(final).toEqual([{ status: 'completed', n: 1000 }]);
    const counts = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM agent_sessions WHERE active_calls <> 0`,
    );
    expect(counts[0].n).toBe(0);
  });

  it('agents with capacity 3 take up to 3 calls each', async () => {
    const other = await createTestOrg(t.app, 'Small Center', 'pro');
    await seedAgents(db.superuser, other.id, 4, 3);
    const responses = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        t
          .http()
          .post('/api/calls/inbound')
          .set(other.headers)
          .send({ from: `+1666${i}` }),
      ),
    );
    expect(responses.every((r) => r.status === 201)).toBe(true);
    const perAgent = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM calls WHERE org_id = $1 AND status = 'ringing' GROUP BY session_id ORDER BY 1`,
      [other.id],
    );
    expect(perAgent.map((r) => r.n)).toEqual([3, 3, 3, 3]);
    const queued = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM calls WHERE org_id = $1 AND status = 'queued'`,
      [other.id],
    );
    expect(queued[0].n).toBe(3);
    expect(await overbooked(db.superuser)).toEqual([]);
  });

  it('same external_id twice is one call; bad bodies 400; unknown call 404; answer twice 409', async () => {
    const first = await t
      .http()
      .post('/api/calls/inbound')
      .set(org.headers)
      .send({ from: '+1777', external_id: 'dup-1' });
    const second = await t
      .http()
      .post('/api/calls/inbound')
      .set(org.headers)
      .send({ from: '+1777', external_id: 'dup-1' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.call_id).toBe(first.body.call_id);
    for (const body of [{}, { from: '' }, { from: '+1', external_id: 'has spaces' }, { from: '+1', agent_id: 'x' }]) {
      expect((await t.http().post('/api/calls/inbound').set(org.headers).send(body)).status).toBe(400);
    }
    expect(
      (await t.http().post('/api/calls/00000000-0000-4000-8000-000000000000/answer').set(org.headers)).status,
    ).toBe(404);
    expect((await t.http().post('/api/calls/not-a-uuid/end').set(org.headers).send({})).status).toBe(400);
    const queuedCall = first.body.call_id as string;
    const answer = await t.http().post(`/api/calls/${queuedCall}/answer`).set(org.headers);
    expect(answer.status).toBe(first.body.status === 'ringing' ? 200 : 409);
  });

  it('a missed offer goes to the next agent after CALL_OFFER_TIMEOUT_SECONDS', async () => {
    const quick = await createTestHttpApp({
      db,
      role: 'all',
      env: {
        ...ENV,
        CALL_OFFER_TIMEOUT_SECONDS: '1',
        CALL_MISSED_OFFER_COOLDOWN_SECONDS: '60',
        QUEUE_POLL_INTERVAL_SECONDS: '0.5',
      },
    });
    try {
      const center = await createTestOrg(quick.app, 'Timeout Center', 'pro');
      const sessions = await seedAgents(db.superuser, center.id, 2, 1);
      const res = await quick.http().post('/api/calls/inbound').set(center.headers).send({ from: '+1888' });
      expect(res.body.status).toBe('ringing');
      const firstSession = res.body.session_id as string;
      const moved = await waitFor(
        async () => {
          const [c] = await sql<{ session_id: string; offer_count: number; last_missed_session_id: string }>(
            db.superuser,
            `SELECT session_id, offer_count, last_missed_session_id FROM calls WHERE id = $1`,
            [res.body.call_id],
          );
          return c.offer_count >= 2 ? c : undefined;
        },
        15000,
        200,
      );
      expect(moved.session_id).not.toBe(firstSession);
      expect(sessions).toContain(moved.session_id);
      expect(moved.last_missed_session_id).toBe(firstSession);
      expect(await overbooked(db.superuser)).toEqual([]);
    } finally {
      await quick.close();
    }
  });
});
