import { sign } from 'jsonwebtoken';
import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';

/**
 * An agent-role token acts only for its own call agent (its `sub` is the agent's external_ref);
 * supervisors (operator and above) act for anyone of their org. Every agent action is tried
 * both ways: by Ana on Bo's session or call (refused, nothing changed) and by a supervisor.
 */
describe('agent-role credentials are bound to their own call agent', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let ana: { id: string; token: string };
  let bo: { id: string; token: string };
  let supervisor: string;

  const token = (sub: string, roles: string[]) =>
    sign({ sub, org_id: org.id, roles }, t.config.get('JWT_SECRET')!, { algorithm: 'HS256', expiresIn: 600 });
  const as = (bearer: string) => ({ Authorization: `Bearer ${bearer}` });

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: { CALL_OFFER_TIMEOUT_SECONDS: '600' } });
    org = await createTestOrg(t.app, 'Binding Org', 'pro');
    const agent = async (name: string, ref: string) => {
      const res = await t
        .http()
        .post('/api/sessions/agents')
        .set(org.headers)
        .send({ name, external_ref: ref, max_concurrent_calls: 2 })
        .expect(201);
      return { id: res.body.id as string, token: token(ref, ['agent']) };
    };
    ana = await agent('Ana', 'ana@example.test');
    bo = await agent('Bo', 'bo@example.test');
    supervisor = token('lead@example.test', ['operator', 'agent']);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const login = (bearer: string, agentId: string) =>
    t.http().post('/api/sessions/login').set(as(bearer)).send({ agent_id: agentId, device_connected: true });
  const refused = (res: { status: number; body: { type?: string } }) => {
    expect(res.status).toBe(403);
    expect(res.body.type).toMatch(/not-your-call-agent/);
  };

  it('logs in only as itself; a supervisor logs in anyone', async () => {
    refused(await login(ana.token, bo.id));
    expect((await login(ana.token, ana.id)).status).toBe(201);
    expect((await login(supervisor, bo.id)).status).toBe(201);
  });

  it('heartbeats, changes status and logs out only its own session', async () => {
    const own = (await login(ana.token, ana.id).expect(201)).body.id as string;
    const other = (await login(bo.token, bo.id).expect(201)).body.id as string;
    const session = (id: string) => t.http().get(`/api/sessions/${id}`).set(org.headers).expect(200);
    const before = (await session(other)).body;

    refused(
      await t.http().post(`/api/sessions/${other}/heartbeat`).set(as(ana.token)).send({ device_connected: false }),
    );
    refused(await t.http().put(`/api/sessions/${other}/status`).set(as(ana.token)).send({ status: 'offline' }));
    refused(await t.http().post(`/api/sessions/${other}/logout`).set(as(ana.token)));
    const after = (await session(other)).body;
    expect(after).toMatchObject({
      status: before.status,
      logout_at: null,
      device_connected: true,
      last_heartbeat: before.last_heartbeat,
    });

    expect(
      (await t.http().post(`/api/sessions/${own}/heartbeat`).set(as(ana.token)).send({ device_connected: true }))
        .status,
    ).toBe(204);
    expect(
      (await t.http().put(`/api/sessions/${own}/status`).set(as(ana.token)).send({ status: 'available' })).status,
    ).toBe(200);
    expect(
      (await t.http().post(`/api/sessions/${other}/heartbeat`).set(as(supervisor)).send({ device_connected: true }))
        .status,
    ).toBe(204);
    expect(
      (
        await t
          .http()
          .put(`/api/sessions/${other}/status`)
          .set(as(supervisor))
          .send({ status: 'away', reason: 'break' })
      ).status,
    ).toBe(200);
    expect((await t.http().post(`/api/sessions/${other}/logout`).set(as(supervisor))).status).toBe(200);
    expect((await t.http().post(`/api/sessions/${own}/logout`).set(as(ana.token))).status).toBe(200);
  });

  it("answers and ends only its own calls; a supervisor ends anyone's", async () => {
    await login(ana.token, ana.id).expect(201);
    const first = (
      await t.http().post('/api/calls/inbound').set(org.headers).send({ from: '+15550009001' }).expect(201)
    ).body;
    expect(first.status).toBe('ringing');
    expect(first.agent_id).toBe(ana.id);

    refused(await t.http().post(`/api/calls/${first.call_id}/answer`).set(as(bo.token)));
    refused(await t.http().post(`/api/calls/${first.call_id}/end`).set(as(bo.token)).send({}));
    const call = (await t.http().get(`/api/calls/${first.call_id}`).set(org.headers).expect(200)).body;
    expect(call).toMatchObject({ status: 'ringing', answered_at: null, ended_at: null });

    expect((await t.http().post(`/api/calls/${first.call_id}/answer`).set(as(ana.token))).status).toBe(200);
    expect((await t.http().post(`/api/calls/${first.call_id}/end`).set(as(ana.token)).send({})).status).toBe(200);

    const second = (
      await t.http().post('/api/calls/inbound').set(org.headers).send({ from: '+15550009002' }).expect(201)
    ).body;
    expect((await t.http().post(`/api/calls/${second.call_id}/end`).set(as(supervisor)).send({})).status).toBe(200);
  });

  it('cannot create call agents or announce inbound calls', async () => {
    refused(await t.http().post('/api/sessions/agents').set(as(ana.token)).send({ name: 'Eve', external_ref: 'eve' }));
    refused(await t.http().post('/api/calls/inbound').set(as(ana.token)).send({ from: '+15550009003' }));
  });
});
