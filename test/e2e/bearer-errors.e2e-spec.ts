import { sign } from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';

/** A refused bearer token is a 401 that says what was wrong, and echoes nothing of it. */
describe('bearer token refusals say why', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let secret: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'api',
      env: { JWT_ISSUER: 'https://id.calmops.test', JWT_AUDIENCE: 'calmops-api' },
    });
    org = await createTestOrg(t.app, 'Bearer Org', 'pro');
    secret = t.config.get('JWT_SECRET')!;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const claims = (extra: object = {}) => ({
    sub: 'u1',
    org_id: org.id,
    roles: ['viewer'],
    iss: 'https://id.calmops.test',
    aud: 'calmops-api',
    exp: now() + 60,
    ...extra,
  });
  const hs = (extra: object = {}, key = secret) => sign(claims(extra), key, { algorithm: 'HS256' });

  it.each([
    ['garbage', () => 'garbage', /malformed/],
    ['three parts of garbage', () => 'abc.def.ghi', /malformed/],
    ['a wrong signature', () => hs({}, randomBytes(32).toString('hex')), /signature does not verify/],
    ['an expired token', () => hs({ exp: now() - 600 }), /has expired/],
    ['a token not valid yet', () => hs({ nbf: now() + 600 }), /not valid yet/],
    ['another audience', () => hs({ aud: 'someone-else' }), /another audience/],
    ['another issuer', () => hs({ iss: 'https://evil.test' }), /another issuer/],
    [
      'alg none',
      () =>
        `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
      /not signed|malformed|algorithm/,
    ],
    [
      'no exp',
      () => {
        const { exp: _exp, ...rest } = claims();
        return sign(rest, secret, { algorithm: 'HS256' });
      },
      /no expiry/,
    ],
  ])('%s → 401 saying so', async (_, token, why) => {
    const value = token();
    const res = await t.http().get('/api/orgs/me').set('Authorization', `Bearer ${value}`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toMatch(why);
    expect(res.body.detail).not.toBe('Unauthorized');
    expect(JSON.stringify(res.body)).not.toContain(value.slice(0, 20));
    expect(JSON.stringify(res.body)).not.toMatch(/calmops-api|id\.calmops\.test/);
  });

  it('a valid token still passes', async () => {
    expect((await t.http().get('/api/orgs/me').set('Authorization', `Bearer ${hs()}`)).status).toBe(200);
  });
});
