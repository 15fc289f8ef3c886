import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';

/** Responses to authenticated callers, and above all those carrying a new secret, are never cached. */
describe('Cache-Control: no-store on authenticated responses', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true' } });
    org = await createTestOrg(t.app, 'Cache Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('a new API key, a new webhook secret, an inbound source secret and plain reads are no-store', async () => {
    const key = await t
      .http()
      .post('/api/api-keys')
      .set(org.headers)
      .send({ name: 'k', scopes: ['keys:read'] });
    expect(key.status).toBe(201);
    expect(key.body.api_key).toBeDefined();
    expect(key.headers['cache-control']).toBe('no-store');

    const endpoint = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: 'http://127.0.0.1:9/hook', event_types: ['*'] });
    expect(endpoint.status).toBe(201);
    expect(endpoint.body.secret).toMatch(/^whsec_/);
    expect(endpoint.headers['cache-control']).toBe('no-store');
    const rotated = await t.http().post(`/api/webhooks/endpoints/${endpoint.body.id}/rotate-secret`).set(org.headers);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.headers['cache-control']).toBe('no-store');

    const source = await t
      .http()
      .post('/api/webhooks/sources')
      .set(org.headers)
      .send({ provider: 'standard', name: 'in' });
    expect(source.status).toBe(201);
    expect(source.headers['cache-control']).toBe('no-store');

    for (const path of ['/api/orgs/me', '/api/api-keys', '/api/payroll/drivers']) {
      const res = await t.http().get(path).set(org.headers).expect(200);
      expect({ path, cache: res.headers['cache-control'] }).toEqual({ path, cache: 'no-store' });
    }
  });
});
