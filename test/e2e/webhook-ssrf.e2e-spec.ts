import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  waitFor,
} from '../support';

/**
 * WEBHOOKS_ALLOW_PRIVATE_TARGETS lets a developer point an endpoint at a receiver on their own
 * machine: loopback only. Cloud metadata, link-local and private space stay refused, at
 * registration and at connect time.
 */
describe('webhook targets with WEBHOOKS_ALLOW_PRIVATE_TARGETS=true', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: {
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOKS_ALLOW_HTTP: 'true',
        WEBHOOK_RETRY_SCHEDULE: '1h',
        QUEUE_POLL_INTERVAL_SECONDS: '0.5',
        EVENTS_RELAY_INTERVAL_MS: '100',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/latest',
    'http://100.100.100.200/latest',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://10.0.0.5/hook',
    'http://[fe80::1]/hook',
  ])('refuses %s at registration (400 naming the url)', async (url) => {
    const org = await createTestOrg(t.app, 'SSRF Org');
    const res = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url, event_types: ['*'] });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'url' })]);
  });

  it('accepts a loopback receiver', async () => {
    const org = await createTestOrg(t.app, 'Dev Org');
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook']) {
      const res = await t
        .http()
        .post('/api/webhooks/endpoints')
        .set(org.headers)
        .send({ url, event_types: ['*'] });
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
  });

  it('refuses at connect time a target that became metadata space after registration', async () => {
    const org = await createTestOrg(t.app, 'Moved Org');
    const ep = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: 'http://127.0.0.1:9/hook', event_types: ['webhook.test'] })
      .expect(201);
    // What a row registered before this rule, or edited behind the API's back, would hold.
    await sql(db.superuser, `UPDATE webhook_endpoints SET url = 'http://169.254.169.254/latest' WHERE id = $1`, [
      ep.body.id,
    ]);
    await t.http().post(`/api/webhooks/endpoints/${ep.body.id}/test`).set(org.headers).send({}).expect(202);
    const [log] = await waitFor(
      () =>
        sql<{ error_class: string; status_code: number | null }>(
          db.superuser,
          `SELECT l.error_class, l.status_code FROM webhook_delivery_log l JOIN webhook_deliveries d ON d.id = l.delivery_id
           WHERE d.endpoint_id = $1`,
          [ep.body.id],
        ).then((rows) => (rows.length ? rows : undefined)),
      30_000,
    );
    expect(log).toEqual({ error_class: 'ssrf_blocked', status_code: null });
  });
});
