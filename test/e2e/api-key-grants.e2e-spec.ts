import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';

/** A key acts only within its grant: it can neither grant nor take away scopes it does not hold. */
describe('API keys: revoking is limited to the revoker’s scopes', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    org = await createTestOrg(t.app, 'Keys Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const newKey = async (scopes: string[]) =>
    (
      await t
        .http()
        .post('/api/api-keys')
        .set(org.headers)
        .send({ name: scopes.join(' '), scopes })
        .expect(201)
    ).body as { id: string; api_key: string };
  const revoke = (as: string, id: string) => t.http().delete(`/api/api-keys/${id}`).set('X-API-Key', as);

  it('a keys:write key cannot revoke the owner key or any key with a scope it lacks', async () => {
    const manager = await newKey(['keys:read', 'keys:write']);
    const keys = (await t.http().get('/api/api-keys?limit=200').set(org.headers).expect(200)).body.items as {
      id: string;
      prefix: string;
    }[];
    const owner = keys.find((k) => org.apiKey.startsWith(k.prefix))!;
    expect(owner).toBeDefined();

    const refused = await revoke(manager.api_key, owner.id);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toMatch(/scopes you do not hold: .*payroll/);
    await t.http().get('/api/orgs/me').set(org.headers).expect(200);

    const stronger = await newKey(['keys:read', 'payroll:read']);
    expect((await revoke(manager.api_key, stronger.id)).status).toBe(403);
    await t.http().get('/api/payroll/drivers').set('X-API-Key', stronger.api_key).expect(200);

    const weaker = await newKey(['keys:read']);
    expect((await revoke(manager.api_key, weaker.id)).status).toBe(204);
    expect((await t.http().get('/api/api-keys').set('X-API-Key', weaker.api_key)).status).toBe(401);
  });

  it('the owner key revokes any key of its org', async () => {
    const other = await newKey(['keys:read', 'keys:write', 'payroll:read']);
    expect((await revoke(org.apiKey, other.id)).status).toBe(204);
  });
});
