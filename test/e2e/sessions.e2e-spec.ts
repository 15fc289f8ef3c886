import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { derivePresence, isRoutable } from '../../src/sessions/presence';
import type { RoutingFacts } from '../../src/sessions/presence';
import type { SessionDto } from '../../src/sessions/dto/session.dto';
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

type Method = 'get' | 'post' | 'put';

describe('sessions: agents, login, heartbeats, status, logout', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;

  /** A request to /api/sessions<path> as `org`. */
  const api = (org: TestOrg, method: Method, path: string, body?: object, app = t) => {
    const req = app.http()[method](`/api/sessions${path}`).set(org.headers);
    return body === undefined ? req : req.send(body);
  };
  const status = async (o: TestOrg, m: Method, path: string, body?: object) => (await api(o, m, path, body)).status;
  const q = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => sql<T>(db.superuser, text, values);
  const newAgent = async (org: TestOrg, body: object = {}, app = t): Promise<string> =>
    (await api(org, 'post', '/agents', { name: 'Agent', ...body }, app).expect(201)).body.id as string;
  const login = async (org: TestOrg, agent: string, device = true, app = t): Promise<SessionDto> =>
    (await api(org, 'post', '/login', { agent_id: agent, device_connected: device }, app).expect(201)).body;
  const get = async (org: TestOrg, id: string, app = t): Promise<SessionDto> =>
    (await api(org, 'get', `/${id}`, undefined, app).expect(200)).body;
  const list = async (org: TestOrg, query = '', app = t): Promise<SessionDto[]> =>
    (await api(org, 'get', `?limit=200${query}`, undefined, app).expect(200)).body.items;
  const ids = (items: { id: string }[]) => items.map((x) => x.id);
  const beat = (org: TestOrg, id: string, device_connected: unknown = true, app = t) =>
    api(org, 'post', `/${id}/heartbeat`, { device_connected }, app);
  const setStatus = (org: TestOrg, id: string, body: object) => api(org, 'put', `/${id}/status`, body);
  const logout = (org: TestOrg, id: string) => api(org, 'post', `/${id}/logout`);
  const history = (sessionId: string) =>
    q(`SELECT * FROM agent_status_history WHERE session_id = $1 ORDER BY at, id`, [sessionId]);
  /** History as `from>to actor reason`, oldest first. */
  const steps = async (sessionId: string) =>
    (await history(sessionId)).map((h) => `${h.from_status}>${h.to_status} ${h.actor} ${h.reason}`);
  const NEW_CALL = `INSERT INTO calls (org_id, from_number, status, session_id) VALUES ($1, '1', $2, $3) RETURNING id`;
  const queueCall = async (org: TestOrg, status = 'queued', session: string | null = null) =>
    (await q<{ id: string }>(NEW_CALL, [org.id, status, session]))[0].id;
  const callOf = async (id: string) => (await q(`SELECT status, session_id FROM calls WHERE id = $1`, [id]))[0];
  const holdCall = (sessionId: string) => q(`UPDATE agent_sessions SET active_calls = 1 WHERE id = $1`, [sessionId]);

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    a = await createTestOrg(t.app, 'Org A', 'pro');
    b = await createTestOrg(t.app, 'Org B', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('agents: creates with defaults, audits, lists newest first in pages; external_ref is unique per org', async () => {
    const res = await api(a, 'post', '/agents', { name: 'Ana', external_ref: 'A-1' }).expect(201);
    expect(Object.keys(res.body).join()).toBe('id,name,external_ref,max_concurrent_calls,wrap_up_seconds,created_at');
    expect(res.body).toMatchObject({ name: 'Ana', external_ref: 'A-1', max_concurrent_calls: 1, wrap_up_seconds: 0 });
    const audit = await q(`SELECT action FROM audit_events WHERE target_id = $1`, [res.body.id]);
    expect(audit).toEqual([{ action: 'sessions.agent.created' }]);
    const two = await newAgent(a, { name: 'Bo', max_concurrent_calls: 50, wrap_up_seconds: 3600 });
    const three = await newAgent(a, { name: 'Cy' });
    const first = (await api(a, 'get', '/agents?limit=2').expect(200)).body;
    expect(ids(first.items)).toEqual([three, two]);
    expect(ids((await api(a, 'get', `/agents?limit=2&cursor=${first.next_cursor}`)).body.items)).toContain(res.body.id);
    expect((await api(a, 'get', `/agents/${two}`)).body.wrap_up_seconds).toBe(3600);
    expect(await status(a, 'post', '/agents', { name: 'X', external_ref: 'A-1' })).toBe(409);
    await newAgent(b, { external_ref: 'A-1' });
  });

  it('agents: refuses bad agents with a 400 naming the field', async () => {
    const bad = { name: [undefined, ' ', 7], max_concurrent_calls: [0, 51, '2'], wrap_up_seconds: [-1, 3601, 1.5] };
    for (const [field, values] of Object.entries(bad)) {
      for (const value of values) {
        const res = await api(a, 'post', '/agents', { name: 'x', [field]: value }).expect(400);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
    }
    expect((await api(a, 'post', '/agents', { name: 'x', colour: 'red' }).expect(400)).text).toContain('colour');
  });

  it('login: opens an available, routable session with its presence and a history row', async () => {
    const agent = await newAgent(a, { max_concurrent_calls: 3 });
    const s = await login(a, agent);
    expect(s).toMatchObject({ agent_id: agent, status: 'available', logout_at: null, end_reason: null });
    expect(s).toMatchObject({ capacity: 3, active_calls: 0, device_connected: true, presence: 'connected' });
    expect(s).toMatchObject({ pending_status: null, away_reason: null, current_call_id: null, routable: true });
    expect(ids(await list(a, '&routable=true'))).toContain(s.id);
    expect(await steps(s.id)).toEqual(['null>available user login']);
    const quiet = await login(a, await newAgent(a), false);
    expect(quiet).toMatchObject({ device_connected: false, presence: 'disconnected', routable: false });
    expect(ids(await list(a, '&routable=false'))).toContain(quiet.id);
    expect(ids(await list(a, '&routable=true'))).not.toContain(quiet.id);
  });

  it("login: refuses unknown and other orgs' agents (404) and bad bodies (400)", async () => {
    const other = await newAgent(b);
    expect(await status(a, 'post', '/login', { agent_id: randomUUID() })).toBe(404);
    expect(await status(a, 'post', '/login', { agent_id: other })).toBe(404);
    expect(await status(a, 'post', '/login', { agent_id: 'nope' })).toBe(400);
    expect(await status(a, 'post', '/login', { agent_id: other, device_connected: 'yes' })).toBe(400);
    expect(await status(a, 'post', '/login', { agent_id: other, extra: 1 })).toBe(400);
  });

  it('login: supersedes the previous session, which keeps its live call', async () => {
    const agent = await newAgent(a);
    const first = await login(a, agent);
    const call = await queueCall(a, 'in_progress', first.id);
    await holdCall(first.id);
    const second = await login(a, agent);
    const old = await get(a, first.id);
    expect(old).toMatchObject({ status: 'offline', end_reason: 'superseded', active_calls: 1, routable: false });
    expect(Date.parse(old.logout_at!)).toBeLessThanOrEqual(Date.parse(second.login_at));
    expect(await callOf(call)).toEqual({ status: 'in_progress', session_id: first.id });
    expect(await steps(first.id)).toEqual(['null>available user login', 'available>offline system superseded']);
    expect(await steps(second.id)).toEqual(['null>available user login']);
    expect(ids(await list(a)).filter((id) => [first.id, second.id].includes(id))).toEqual([second.id]);
  });

  it('heartbeat: 204, device state shows in presence; 404, 400; closed: heartbeat and status 409', async () => {
    const s = await login(a, await newAgent(a));
    expect((await beat(a, s.id, false).expect(204)).text).toBe('');
    expect(await get(a, s.id)).toMatchObject({ device_connected: false, presence: 'disconnected', routable: false });
    await beat(a, s.id, true).expect(204);
    expect(await get(a, s.id)).toMatchObject({ device_connected: true, presence: 'connected', routable: true });
    expect((await beat(a, randomUUID())).status).toBe(404);
    expect((await beat(a, 'not-a-uuid')).status).toBe(400);
    for (const body of [{}, { device_connected: 'yes' }, { device_connected: true, x: 1 }]) {
      expect(await status(a, 'post', `/${s.id}/heartbeat`, body)).toBe(400);
    }
    await logout(a, s.id).expect(200);
    const closed = await beat(a, s.id).expect(409);
    expect(closed.body.type).toMatch(/session-closed$/);
    for (const body of [{ status: 'available' }, { status: 'offline' }, { status: 'away', reason: 'x' }]) {
      expect(await status(a, 'put', `/${s.id}/status`, body)).toBe(409);
    }
  });

  it('heartbeat: does not wait for the row the router locks (agent_sessions)', async () => {
    const s = await login(a, await newAgent(a));
    const locker = new Client({ connectionString: db.superuser });
    await locker.connect();
    await locker.query(`BEGIN; SELECT 1 FROM agent_sessions WHERE id = '${s.id}' FOR UPDATE`);
    const res = await beat(a, s.id)
      .timeout(3000)
      .catch((err: Error) => err);
    await locker.end(); // rolls the lock back
    expect(res).toMatchObject({ status: 204 });
  });

  it('login offers queued calls; a heartbeat does only when it makes the agent present again', async () => {
    const e = await createTestOrg(t.app, 'Org E');
    const first = await queueCall(e);
    const s = await login(e, await newAgent(e, { max_concurrent_calls: 2 }));
    expect(s).toMatchObject({ active_calls: 1, current_call_id: first, routable: true });
    expect(await callOf(first)).toEqual({ status: 'ringing', session_id: s.id });
    const call = await queueCall(e); // queued behind the router's back: only a transition offers it
    await beat(e, s.id).expect(204);
    expect((await callOf(call)).status).toBe('queued');
    await beat(e, s.id, false).expect(204);
    expect((await callOf(call)).status).toBe('queued');
    await beat(e, s.id, true).expect(204);
    expect(await callOf(call)).toEqual({ status: 'ringing', session_id: s.id });
  });

  it('heartbeat: with a 1 s window a silent agent goes stale and a beat brings it back (offering queued calls)', async () => {
    const fast = await createTestHttpApp({ db, role: 'api', env: { SESSION_ROUTABLE_HEARTBEAT_SECONDS: '1' } });
    try {
      const f = await createTestOrg(fast.app, 'Org F');
      const s = await login(f, await newAgent(f, {}, fast), true, fast);
      await waitFor(async () => (await get(f, s.id, fast)).presence === 'stale', 5000, 100);
      expect(ids(await list(f, '&routable=false', fast))).toContain(s.id);
      await beat(f, s.id, true, fast).expect(204);
      expect(await get(f, s.id, fast)).toMatchObject({ presence: 'connected', routable: true });
      await waitFor(async () => !(await get(f, s.id, fast)).routable, 5000, 100);
      const call = await queueCall(f);
      await beat(f, s.id, true, fast).expect(204);
      expect(await callOf(call)).toEqual({ status: 'ringing', session_id: s.id });
    } finally {
      await fast.close();
    }
  });

  it('status: walks available → away → available → offline; history rows only ever append', async () => {
    const s = await login(a, await newAgent(a));
    const before = await history(s.id);
    for (const bad of [{ status: 'away' }, { status: 'busy' }, {}, { status: 'away', reason: 'x', extra: 1 }]) {
      expect(await status(a, 'put', `/${s.id}/status`, bad)).toBe(400);
    }
    const away = await setStatus(a, s.id, { status: 'away', reason: 'lunch' }).expect(200);
    expect(away.body).toMatchObject({ status: 'away', away_reason: 'lunch', routable: false });
    await setStatus(a, s.id, { status: 'away', reason: 'lunch' }).expect(200);
    const back = await setStatus(a, s.id, { status: 'available' }).expect(200);
    expect(back.body).toMatchObject({ status: 'available', away_reason: null, routable: true });
    const off = await setStatus(a, s.id, { status: 'offline' }).expect(200);
    expect(off.body).toMatchObject({ status: 'offline', routable: false });
    expect((await history(s.id)).slice(0, 1)).toEqual(before); // appended, never rewritten
    expect(await steps(s.id)).toEqual([
      'null>available user login',
      'available>away user lunch',
      'away>available user null',
      'available>offline user null',
    ]);
    await expect(sql(db.runtime, `UPDATE agent_status_history SET reason = 'x'`)).rejects.toThrow(/permission/);
    expect(await status(a, 'put', `/${randomUUID()}/status`, { status: 'available' })).toBe(404);
  });

  it('status: makes away/offline pending while a call is in hand; available cancels it', async () => {
    const s = await login(a, await newAgent(a, { max_concurrent_calls: 2 }));
    await holdCall(s.id);
    const { body } = await setStatus(a, s.id, { status: 'away', reason: 'break' }).expect(200);
    expect(body).toMatchObject({ status: 'available', pending_status: 'away', away_reason: 'break', routable: false });
    const off = await setStatus(a, s.id, { status: 'offline' }).expect(200);
    expect(off.body).toMatchObject({ status: 'available', pending_status: 'offline' });
    const back = await setStatus(a, s.id, { status: 'available' }).expect(200);
    expect(back.body).toMatchObject({ status: 'available', pending_status: null, away_reason: null, routable: true });
    expect(await history(s.id)).toHaveLength(1);
  });

  it('logout: closes with an empty body, a text/plain body (sendBeacon) or JSON, idempotently', async () => {
    const s = await login(a, await newAgent(a));
    await holdCall(s.id);
    const { body: c } = await logout(a, s.id).expect(200);
    expect(c).toMatchObject({ status: 'offline', end_reason: 'logout', active_calls: 1, logout_at: expect.anything() });
    expect((await logout(a, s.id).expect(200)).body).toEqual(c);
    expect(await steps(s.id)).toEqual(['null>available user login', 'available>offline user logout']);
    expect(ids(await list(a))).not.toContain(s.id);
    const beacon = await login(a, await newAgent(a));
    const text = () => logout(a, beacon.id).set('Content-Type', 'text/plain;charset=UTF-8').send('bye');
    expect((await text().expect(200)).body).toMatchObject({ end_reason: 'logout' });
    await text().expect(200);
    const { id } = await login(a, await newAgent(a));
    await logout(a, id).send({}).expect(200);
    await logout(a, id).set('Content-Type', 'application/xml').send('<x/>').expect(415);
    await logout(a, randomUUID()).expect(404);
  });

  it('presence and routable from SQL agree with presence.ts', async () => {
    const g = await createTestOrg(t.app, 'Org G');
    const changes = [
      `p.last_heartbeat = now() - interval '10 min'`,
      'p.device_connected = false',
      `offer_cooldown_until = now() + interval '10 min'`,
      `ready_at = now() + interval '10 min'`,
      `pending_status = 'away'`,
      'active_calls = 2',
      `active_calls = 1, offer_cooldown_until = now() - interval '1 min', ready_at = now() - interval '1 min'`,
    ];
    await login(g, await newAgent(g));
    for (const set of changes) {
      const { id } = await login(g, await newAgent(g, { max_concurrent_calls: 2 }));
      const [table, key] = set.startsWith('p.') ? ['agent_presence p', 'session_id'] : ['agent_sessions', 'id'];
      await q(`UPDATE ${table} SET ${set.replace('p.', '')} WHERE ${key} = $1`, [id]);
    }
    const items = await list(g);
    const facts = await q<RoutingFacts & { id: string; now: Date }>(
      `SELECT s.id, p.device_connected AS "deviceConnected", p.last_heartbeat AS "lastHeartbeat", s.logout_at AS "logoutAt",
         s.status, s.pending_status AS "pendingStatus", s.active_calls AS "activeCalls", s.capacity, s.ready_at AS "readyAt",
         s.offer_cooldown_until AS "offerCooldownUntil", now() AS now
       FROM agent_sessions s JOIN agent_presence p ON p.session_id = s.id WHERE s.org_id = $1`,
      [g.id],
    );
    for (const s of items) {
      const f = facts.find((r) => r.id === s.id)!;
      expect([s.id, s.presence, s.routable]).toEqual([s.id, derivePresence(f, f.now, 45), isRoutable(f, f.now, 45)]);
    }
    const routable = ids(items.filter((s) => s.routable));
    expect(routable).toHaveLength(2);
    expect(new Set(items.map((s) => s.presence))).toEqual(new Set(['connected', 'stale', 'disconnected']));
    expect(ids(await list(g, '&routable=true')).sort()).toEqual(routable.sort());
  });

  it("org B cannot see or touch org A's sessions and agents (404)", async () => {
    const agent = await newAgent(a);
    const { id } = await login(a, agent);
    await expectOrgIsolation(t.http, a, b, [
      { path: `/api/sessions/${id}`, id, methods: ['get'], lists: ['/api/sessions', '/api/sessions?routable=true'] },
      { path: `/api/sessions/${id}/heartbeat`, id, methods: ['post'], body: { device_connected: true } },
      { path: `/api/sessions/${id}/status`, id, methods: ['put'], body: { status: 'away', reason: 'x' } },
      { path: `/api/sessions/${id}/logout`, id, methods: ['post'] },
      { path: `/api/sessions/agents/${agent}`, id: agent, methods: ['get'], lists: ['/api/sessions/agents'] },
    ]);
    expect(await status(b, 'post', '/login', { agent_id: agent })).toBe(404);
    expect(await get(a, id)).toMatchObject({ logout_at: null, status: 'available', routable: true });
  });
});
