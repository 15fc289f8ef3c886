import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  expectOrgIsolation,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

interface Problem {
  status: number;
  errors?: { field: string; message: string }[];
}
type Endpoint = Record<string, unknown> & { id: string };

const SSRF_URLS = [
  'http://127.0.0.1',
  'http://169.254.169.254/latest',
  'http://[::ffff:127.0.0.1]',
  'http://2130706433',
  'http://0x7f.1',
];

describe('webhook endpoints', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;

  const create = (org: TestOrg, body: Record<string, unknown>) =>
    t.http().post('/api/webhooks/endpoints').set(org.headers).send(body);
  const newEndpoint = async (org: TestOrg, body: Record<string, unknown> = {}): Promise<Endpoint> => {
    const res = await create(org, { url: 'https://example.com/hooks', event_types: ['call.completed'], ...body });
    expect(res.status).toBe(201);
    return res.body as Endpoint;
  };
  const row = async (id: string) =>
    (await sql<Record<string, unknown>>(db.superuser, 'SELECT * FROM webhook_endpoints WHERE id = $1', [id]))[0];
  const auditActions = async (id: string): Promise<string[]> =>
    (
      await sql<{ action: string }>(db.superuser, 'SELECT action FROM audit_events WHERE target_id = $1 ORDER BY seq', [
        id,
      ])
    ).map((r) => r.action);

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    a = await createTestOrg(t.app, 'Org A', 'pro');
    b = await createTestOrg(t.app, 'Org B', 'pro');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the event types', async () => {
    const res = await t.http().get('/api/webhooks/event-types').set(a.headers);
    expect(res.status).toBe(200);
    const types = (res.body as { items: { type: string; description: string }[] }).items.map((i) => i.type);
    expect(types).toEqual([
      'payroll.run.completed',
      'payroll.run.failed',
      'session.status_changed',
      'call.assigned',
      'call.completed',
      'webhook.endpoint.disabled',
      'webhook.test',
      'incident.opened',
      'incident.updated',
      'incident.resolved',
      'support_ticket.created',
      'agent.escalated',
      'workflow.completed',
      'workflow.failed',
      'workflow.escalated',
    ]);
  });

  it('returns a whsec_ secret once and stores only its ciphertext', async () => {
    const created = await newEndpoint(a, { description: 'ops', format: 'slack', rate_limit_per_second: 5 });
    const secret = created.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({
      url: 'https://example.com/hooks',
      event_types: ['call.completed'],
      format: 'slack',
      rate_limit_per_second: 5,
      enabled: true,
      disabled_reason: null,
      breaker: { state: 'closed', consecutive_failures: 0, opened_at: null },
    });
    const got = await t.http().get(`/api/webhooks/endpoints/${created.id}`).set(a.headers);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    expect(got.text).not.toContain(secret.slice(6));
    const list = await t.http().get('/api/webhooks/endpoints').set(a.headers);
    expect(list.text).toContain(created.id);
    expect(list.text).not.toContain(secret.slice(6));
    const stored = await row(created.id);
    expect(stored.secret_ciphertext).toMatch(/^v1\./);
    expect(stored.secret_ciphertext).not.toContain(secret.slice(6));
    expect(await auditActions(created.id)).toEqual(['webhooks.endpoint.created']);
  });

  it.each(SSRF_URLS)('refuses %s (private targets are not allowed)', async (url) => {
    const res = await create(a, { url, event_types: ['*'] });
    expect(res.status).toBe(400);
    expect((res.body as Problem).errors).toEqual([{ field: 'url', message: expect.any(String) as string }]);
  });

  it('refuses bad inputs', async () => {
    const bad = [
      { url: 'ftp://example.com/x', event_types: ['*'] },
      { url: 'https://example.com/x', event_types: ['no.such.event'] },
      { url: 'https://example.com/x', event_types: ['*', 'call.completed'] },
      { url: 'https://example.com/x', event_types: [] },
      { url: 'https://example.com/x', event_types: ['*'], format: 'xml' },
      { url: 'https://example.com/x', event_types: ['*'], rate_limit_per_second: 0 },
      { url: 'not a url', event_types: ['*'] },
      { event_types: ['*'] },
    ];
    for (const body of bad) {
      const res = await create(a, body);
      expect([res.status, body]).toEqual([400, body]);
    }
    const ftp = await create(a, { url: 'ftp://example.com/x', event_types: ['*'] });
    expect((ftp.body as Problem).errors?.[0].field).toBe('url');
  });

  it('requires https when WEBHOOKS_ALLOW_HTTP=false', async () => {
    const strict = await createTestHttpApp({ db, role: 'api', env: { WEBHOOKS_ALLOW_HTTP: 'false' } });
    try {
      const http = await strict
        .http()
        .post('/api/webhooks/endpoints')
        .set(a.headers)
        .send({ url: 'http://example.com/hooks', event_types: ['*'] });
      expect(http.status).toBe(400);
      expect((http.body as Problem).errors).toEqual([{ field: 'url', message: 'must use https' }]);
      const https = await strict
        .http()
        .post('/api/webhooks/endpoints')
        .set(a.headers)
        .send({ url: 'https://example.com/hooks', event_types: ['*'] });
      expect(https.status).toBe(201);
    } finally {
      await strict.close();
    }
  });

  it('updates fields, re-validates the url, and re-enabling clears the disabled state', async () => {
    const ep = await newEndpoint(a);
    const patch = (body: object) => t.http().patch(`/api/webhooks/endpoints/${ep.id}`).set(a.headers).send(body);
    const bad = await patch({ url: 'http://169.254.169.254/latest' });
    expect(bad.status).toBe(400);
    expect((bad.body as Problem).errors?.[0].field).toBe('url');
    expect((await patch({ event_types: ['nope'] })).status).toBe(400);

    const ok = await patch({ url: 'https://hooks.example.org/in', event_types: ['*'], description: 'new' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ url: 'https://hooks.example.org/in', event_types: ['*'], description: 'new' });

    const off = await patch({ enabled: false });
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: 'manual' });
    // As the delivery worker would after failing for days.
    await sql(
      db.superuser,
      `UPDATE webhook_endpoints SET disabled_reason = 'failing_too_long', failing_since = now() - interval '6 days',
         breaker_state = 'open', breaker_failures = 9, breaker_opened_at = now() WHERE id = $1`,
      [ep.id],
    );
    const on = await patch({ enabled: true });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
      breaker: { state: 'closed', consecutive_failures: 0, opened_at: null },
    });
    expect(await auditActions(ep.id)).toEqual([
      'webhooks.endpoint.created',
      'webhooks.endpoint.updated',
      'webhooks.endpoint.updated',
      'webhooks.endpoint.updated',
    ]);
  });

  it('rotates the secret, keeping the old one for 24 hours', async () => {
    const ep = await newEndpoint(a);
    const before = await row(ep.id);
    const res = await t.http().post(`/api/webhooks/endpoints/${ep.id}/rotate-secret`).set(a.headers);
    expect(res.status).toBe(200);
    const { secret, previous_secret_expires_at } = res.body as { secret: string; previous_secret_expires_at: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(ep.secret);
    const hours = (new Date(previous_secret_expires_at).getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    const after = await row(ep.id);
    expect(after.previous_secret_ciphertext).toBe(before.secret_ciphertext);
    expect(after.secret_ciphertext).not.toBe(before.secret_ciphertext);
    expect(await auditActions(ep.id)).toContain('webhooks.endpoint.secret_rotated');
  });

  it('queues a webhook.test event for the endpoint only', async () => {
    const ep = await newEndpoint(a);
    const res = await t.http().post(`/api/webhooks/endpoints/${ep.id}/test`).set(a.headers);
    expect(res.status).toBe(202);
    const events = await sql<{ type: string; data: Record<string, unknown>; org_id: string }>(
      db.superuser,
      'SELECT type, data, org_id FROM domain_events WHERE id = $1',
      [(res.body as { event_id: string }).event_id],
    );
    expect(events).toEqual([
      {
        type: 'webhook.test',
        org_id: a.id,
        data: { endpoint_id: ep.id, target_endpoint_id: ep.id, message: expect.any(String) as string },
      },
    ]);
  });

  it('deletes softly: 404 afterwards and gone from the list', async () => {
    const ep = await newEndpoint(a);
    const del = await t.http().delete(`/api/webhooks/endpoints/${ep.id}`).set(a.headers);
    expect(del.status).toBe(204);
    expect((await t.http().get(`/api/webhooks/endpoints/${ep.id}`).set(a.headers)).status).toBe(404);
    expect((await t.http().delete(`/api/webhooks/endpoints/${ep.id}`).set(a.headers)).status).toBe(404);
    expect((await t.http().post(`/api/webhooks/endpoints/${ep.id}/test`).set(a.headers)).status).toBe(404);
    const list = await t.http().get('/api/webhooks/endpoints?limit=200').set(a.headers);
    expect(list.text).not.toContain(ep.id);
    expect((await row(ep.id)).deleted_at).not.toBeNull();
    expect(await auditActions(ep.id)).toContain('webhooks.endpoint.deleted');
  });

  it('paginates newest first', async () => {
    const org = await createTestOrg(t.app, 'Org P', 'pro');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await newEndpoint(org)).id);
    const first = await t.http().get('/api/webhooks/endpoints?limit=2').set(org.headers);
    const page1 = first.body as { items: Endpoint[]; next_cursor: string };
    expect(page1.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const second = await t.http().get(`/api/webhooks/endpoints?limit=2&cursor=${page1.next_cursor}`).set(org.headers);
    expect((second.body as { items: Endpoint[] }).items.map((e) => e.id)).toEqual([ids[0]]);
  });

  it("keeps each org's endpoints to itself", async () => {
    const ep = await newEndpoint(a);
    await expectOrgIsolation(t.http, a, b, [
      {
        path: `/api/webhooks/endpoints/${ep.id}`,
        id: ep.id,
        methods: ['get', 'patch', 'delete'],
        body: { description: 'hijacked' },
        lists: ['/api/webhooks/endpoints?limit=200'],
      },
      { path: `/api/webhooks/endpoints/${ep.id}/rotate-secret`, id: ep.id, methods: ['post'] },
      { path: `/api/webhooks/endpoints/${ep.id}/test`, id: ep.id, methods: ['post'] },
    ]);
  });
});
