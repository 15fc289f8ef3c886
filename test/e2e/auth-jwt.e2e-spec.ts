import { createHmac, createPublicKey, JsonWebKey, randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { decode, sign } from 'jsonwebtoken';
import type { Response } from 'supertest';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  freePort,
  runApp,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';

const ISS = 'https://idp.test';
const AUD = 'calmops-api';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
// Many requests here fail authentication on purpose; keep them clear of the per-IP limit.
const QUIET_IP_LIMIT = { RATE_LIMIT_IP_PER_15_MIN: '100000' };

function expectProblem(res: Response, status: number): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status, body: { status } });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

describe('bearer tokens (JWT)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('secret mode (HS256 with JWT_SECRET)', () => {
    let t: TestHttpApp;
    let org: TestOrg;
    let secret: string;
    const claims = (extra: object = {}) => ({ sub: 'user-1', org_id: org.id, roles: ['viewer'], ...extra });
    const hs = (extra: object = {}) => sign(claims(extra), secret, { algorithm: 'HS256', expiresIn: 60 });
    const me = (headers: Record<string, string>) => t.http().get('/api/orgs/me').set(headers);

    beforeAll(async () => {
      t = await createTestHttpApp({ db, env: QUIET_IP_LIMIT });
      org = await createTestOrg(t.app, 'JWT Org', 'pro');
      secret = t.config.get('JWT_SECRET')!;
      expect(secret.length).toBeGreaterThanOrEqual(32);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a viewer token reads its org', async () => {
      const res = await me(bearer(hs()));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: org.id, name: 'JWT Org', plan: 'pro' });
    });

    it('an explicit scope claim grants that scope, and only that scope', async () => {
      const scoped = (scope: string) => sign({ sub: 'svc', org_id: org.id, scope }, secret, { expiresIn: 60 });
      expect((await me(bearer(scoped('orgs:read')))).status).toBe(200);
      expectProblem(await me(bearer(scoped('keys:read audit:read'))), 403);
    });

    it('a viewer cannot create API keys (403)', async () => {
      const res = await t
        .http()
        .post('/api/api-keys')
        .set(bearer(hs()))
        .send({ name: 'nope', scopes: ['orgs:read'] });
      expectProblem(res, 403);
      expect(res.body.detail).toContain('keys:write');
    });

    it('accepts a token that expired within the 30 s clock skew', async () => {
      const token = sign(claims({ exp: now() - 10 }), secret, { algorithm: 'HS256' });
      expect((await me(bearer(token))).status).toBe(200);
    });

    const rejected: [string, () => Record<string, string>][] = [
      ['expired beyond the skew', () => bearer(sign(claims({ exp: now() - 120 }), secret))],
      ['without exp', () => bearer(sign(claims(), secret, { algorithm: 'HS256' }))],
      ['alg none', () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), exp: now() + 60 })}.`)],
      ['signed with another secret', () => bearer(sign(claims(), randomBytes(32).toString('hex'), { expiresIn: 60 }))],
      ['naming an org that does not exist', () => bearer(hs({ org_id: randomUUID() }))],
      ['with an org_id that is not a uuid', () => bearer(hs({ org_id: 'acme' }))],
      ['without sub', () => bearer(sign({ org_id: org.id, roles: ['viewer'] }, secret, { expiresIn: 60 }))],
      ['that is garbage', () => bearer('not.a.jwt')],
      ['sent as Basic credentials', () => ({ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      ['sent as "Bearer" with two parts', () => ({ Authorization: `Bearer ${hs()} extra` })],
    ];
    it.each(rejected)('rejects a token %s with 401 problem+json', async (_name, headers) => {
      expectProblem(await me(headers()), 401);
    });

    it('task issue-token of the built app prints a token this app accepts', async () => {
      const res = await runApp(['task', 'issue-token', '--org', org.id, '--role', 'viewer'], {
        DATABASE_URL: db.runtime,
        DATABASE_ADMIN_URL: db.admin,
        DATABASE_SYSTEM_URL: db.system,
        JWT_SECRET: secret,
      });
      expect(res.code).toBe(0);
      const token = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.exec(res.output)?.[0];
      expect(token).toBeDefined();
      expect(decode(token!)).toMatchObject({ org_id: org.id, roles: ['viewer'], sub: 'dev-user:viewer' });
      const ok = await me(bearer(token!));
      expect(ok.status).toBe(200);
      expect(ok.body.id).toBe(org.id);
    });
  });

  describe('JWKS mode (RS256/ES256 from the identity provider)', () => {
    let t: TestHttpApp;
    let org: TestOrg;
    let server: Server;
    let hits = 0;
    const jwks: { keys: JWK[] } = { keys: [] };
    let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
    let ec: Awaited<ReturnType<typeof generateKeyPair>>;
    let rsa2: Awaited<ReturnType<typeof generateKeyPair>>;

    const jwt = (
      key: Awaited<ReturnType<typeof generateKeyPair>>,
      header: { alg: string; kid: string },
      opts: { iss?: string; aud?: string } = {},
    ) =>
      new SignJWT({ org_id: org.id, roles: ['viewer'] })
        .setProtectedHeader({ ...header, typ: 'JWT' })
        .setSubject('idp-user')
        .setIssuer(opts.iss ?? ISS)
        .setAudience(opts.aud ?? AUD)
        .setIssuedAt()
        .setExpirationTime('60s')
        .sign(key.privateKey);
    const me = (token: string) => t.http().get('/api/orgs/me').set(bearer(token));
    const publish = async (key: Awaited<ReturnType<typeof generateKeyPair>>, kid: string, alg: string) =>
      jwks.keys.push({ ...(await exportJWK(key.publicKey)), kid, alg, use: 'sig' });

    beforeAll(async () => {
      [rsa, ec, rsa2] = await Promise.all([
        generateKeyPair('RS256'),
        generateKeyPair('ES256'),
        generateKeyPair('RS256'),
      ]);
      await publish(rsa, 'rsa-1', 'RS256');
      await publish(ec, 'ec-1', 'ES256');
      const port = await freePort();
      server = createServer((req, res) => {
        if (req.url !== '/jwks.json') return void res.writeHead(404).end();
        hits++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      t = await createTestHttpApp({
        db,
        env: {
          ...QUIET_IP_LIMIT,
          JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
          JWT_ISSUER: ISS,
          JWT_AUDIENCE: AUD,
          JWKS_MIN_REFRESH_INTERVAL_MS: '1000',
        },
      });
      org = await createTestOrg(t.app, 'JWKS Org', 'pro');
    });
    afterAll(async () => {
      await t?.close();
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('accepts valid RS256 and ES256 tokens, fetching the JWKS once', async () => {
      const rs = await me(await jwt(rsa, { alg: 'RS256', kid: 'rsa-1' }));
      expect(rs.status).toBe(200);
      expect(rs.body.id).toBe(org.id);
      const es = await me(await jwt(ec, { alg: 'ES256', kid: 'ec-1' }));
      expect(es.status).toBe(200);
      expect(hits).toBe(1);
    });

    it('rejects a wrong audience, a wrong issuer, an unknown kid and a mismatched key', async () => {
      expectProblem(await me(await jwt(rsa, { alg: 'RS256', kid: 'rsa-1' }, { aud: 'other-api' })), 401);
      expectProblem(await me(await jwt(rsa, { alg: 'RS256', kid: 'rsa-1' }, { iss: 'https://evil.test' })), 401);
      expectProblem(await me(await jwt(rsa, { alg: 'RS256', kid: 'nope' })), 401);
      // Signed by the RSA key but labelled with the EC key's kid.
      expectProblem(await me(await jwt(rsa, { alg: 'RS256', kid: 'ec-1' })), 401);
    });

    it('rejects HS256 tokens: the algorithm-confusion attack and the app secret', async () => {
      const payload = { sub: 'attacker', org_id: org.id, roles: ['owner'], iss: ISS, aud: AUD, exp: now() + 60 };
      const pem = createPublicKey({ key: jwks.keys[0] as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' })}.${b64(payload)}`;
      const mac = createHmac('sha256', pem).update(signingInput).digest('base64url');
      expectProblem(await me(`${signingInput}.${mac}`), 401);

      const secret = t.config.get('JWT_SECRET')!;
      expectProblem(await me(sign(payload, secret, { algorithm: 'HS256', keyid: 'rsa-1' })), 401);
      expectProblem(await me(sign(payload, secret, { algorithm: 'HS256' })), 401);
    });

    it('picks up a rotated key once the refresh interval allows', async () => {
      const token = await jwt(rsa2, { alg: 'RS256', kid: 'rsa-2' });
      expectProblem(await me(token), 401);
      const before = hits;
      await publish(rsa2, 'rsa-2', 'RS256');
      await waitFor(async () => (await me(token)).status === 200, 10000, 200);
      expect(hits).toBeGreaterThan(before);
      expect((await me(await jwt(rsa, { alg: 'RS256', kid: 'rsa-1' }))).status).toBe(200);
    });

    it('stops accepting a key the provider withdrew, once the key set is read again', async () => {
      const token = await jwt(ec, { alg: 'ES256', kid: 'ec-1' });
      expect((await me(token)).status).toBe(200);
      jwks.keys = jwks.keys.filter((k) => k.kid !== 'ec-1');
      // An unknown kid makes the next refetch happen (once the interval allows one); the key
      // set read then has no ec-1 any more.
      const before = hits;
      await waitFor(
        async () => {
          await me(await jwt(rsa, { alg: 'RS256', kid: randomBytes(4).toString('hex') }));
          return hits > before;
        },
        10000,
        200,
      );
      expectProblem(await me(token), 401);
      expect((await me(await jwt(rsa, { alg: 'RS256', kid: 'rsa-1' }))).status).toBe(200);
    });

    it('refetches the JWKS at most a couple of times for 20 unknown kids', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const before = hits;
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => jwt(rsa, { alg: 'RS256', kid: randomBytes(8).toString('hex') })),
      );
      // Ten at once (one fetch in flight), then ten one after the other (inside the interval).
      const statuses = await Promise.all(tokens.slice(0, 10).map(async (token) => (await me(token)).status));
      for (const token of tokens.slice(10)) statuses.push((await me(token)).status);
      expect(statuses).toEqual(Array(20).fill(401));
      expect(hits - before).toBeGreaterThanOrEqual(1);
      expect(hits - before).toBeLessThanOrEqual(2);
    });
  });
});
