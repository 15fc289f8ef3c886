import { RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { randomUUID } from 'node:crypto';
import { ANY_OF_SCOPES, API_KEY_PATTERN, hashApiKey, IS_PUBLIC, REQUIRED_SCOPES } from '../../libs/auth';
import { Clock, ManualClock } from '../../libs/core';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  dbEnv,
  expectOrgIsolation,
  runApp,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

describe('identity and tenancy', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let platformKey: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    a = await createTestOrg(t.app, 'Org A', 'pro');
    b = await createTestOrg(t.app, 'Org B', 'pro');
    const created = await runApp(['task', 'create-platform-key', '--name', 'ops'], dbEnv(db));
    expect(created.code).toBe(0);
    platformKey = (JSON.parse(created.output.trim().split('\n').pop()!) as { api_key: string }).api_key;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('organizations', () => {
    it('GET /api/orgs/me returns the caller org only', async () => {
      const res = await t.http().get('/api/orgs/me').set(a.headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: a.id, name: 'Org A', plan: 'pro', created_at: expect.any(String) });
    });

    it('POST /api/orgs needs a platform key; an org owner gets 403', async () => {
      const denied = await t.http().post('/api/orgs').set(a.headers).send({ name: 'Sneaky' });
      expect(denied.status).toBe(403);
      const res = await t
        .http()
        .post('/api/orgs')
        .set('X-API-Key', platformKey)
        .send({ name: 'Newco', plan: 'enterprise' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'Newco', plan: 'enterprise', id: expect.any(String) });
      const audit = await sql(db.superuser, `SELECT action, actor_type FROM audit_events WHERE org_id = $1`, [
        res.body.id,
      ]);
      expect(audit).toEqual([{ action: 'org.created', actor_type: 'platform_key' }]);
    });

    it('rejects bad org bodies with 400 naming the field, and writes nothing', async () => {
      const before = await sql(db.superuser, `SELECT count(*)::int AS n FROM orgs`);
      for (const body of [{ name: '' }, { name: 'x', plan: 'gold' }, { name: 'x', org_id: randomUUID() }, {}]) {
        const res = await t.http().post('/api/orgs').set('X-API-Key', platformKey).send(body);
        expect(res.status).toBe(400);
        expect(res.body.errors.length).toBeGreaterThan(0);
      }
      expect(await sql(db.superuser, `SELECT count(*)::int AS n FROM orgs`)).toEqual(before);
    });

    it('a platform key cannot act inside an org', async () => {
      const res = await t.http().get('/api/orgs/me').set('X-API-Key', platformKey);
      expect(res.status).toBe(403);
    });

    it('task create-org prints exactly one JSON line with an owner key that works', async () => {
      const res = await runApp(['task', 'create-org', '--name', 'Cli Org', '--plan', 'free'], dbEnv(db));
      expect(res.code).toBe(0);
      const lines = res.output
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"org_id"'));
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]) as { org_id: string; api_key: string };
      expect(Object.keys(out).sort()).toEqual(['api_key', 'org_id']);
      expect(out.api_key).toMatch(API_KEY_PATTERN);
      const me = await t.http().get('/api/orgs/me').set('X-API-Key', out.api_key);
      expect(me.body).toMatchObject({ id: out.org_id, name: 'Cli Org', plan: 'free' });
      const bad = await runApp(['task', 'create-org', '--plan', 'gold'], dbEnv(db));
      expect(bad.code).toBe(1);
    });
  });

  describe('API keys', () => {
    it('creates a key shown once, stored as SHA-256 only, that works with its scopes only', async () => {
      const res = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'reader', scopes: ['orgs:read'] });
      expect(res.status).toBe(201);
      const key = res.body.api_key as string;
      expect(key).toMatch(/^cops_[0-9A-Za-z]{36}$/);
      expect(res.body).toMatchObject({
        name: 'reader',
        scopes: ['orgs:read'],
        prefix: key.slice(0, 12),
        last4: key.slice(-4),
      });
      const stored = await sql<{ key_hash: string }>(db.superuser, `SELECT * FROM api_keys WHERE id = $1`, [
        res.body.id,
      ]);
      expect(stored[0].key_hash).toBe(hashApiKey(key));
      expect(JSON.stringify(stored)).not.toContain(key);
      const list = await t.http().get('/api/api-keys').set(a.headers);
      expect(list.text).not.toContain(key);
      expect((await t.http().get('/api/orgs/me').set('X-API-Key', key)).status).toBe(200);
      expect((await t.http().get('/api/api-keys').set('X-API-Key', key)).status).toBe(403);
    });

    it('refuses to grant scopes the caller does not hold (403) and unknown scopes (400)', async () => {
      const reader = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'r', scopes: ['orgs:read', 'keys:write'] });
      const readerKey = { 'X-API-Key': reader.body.api_key as string };
      const escalate = await t
        .http()
        .post('/api/api-keys')
        .set(readerKey)
        .send({ name: 'x', scopes: ['payroll:admin'] });
      expect(escalate.status).toBe(403);
      const unknown = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'x', scopes: ['root'] });
      expect(unknown.status).toBe(400);
      const platform = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'x', scopes: ['platform:admin'] });
      expect(platform.status).toBe(400);
      const smuggled = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'x', scopes: ['orgs:read'], org_id: b.id });
      expect(smuggled.status).toBe(400);
      const past = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'x', scopes: ['orgs:read'], expires_at: '2001-01-01T00:00:00Z' });
      expect(past.status).toBe(400);
    });

    it('revocation stops the key at once and is audited', async () => {
      const created = await t
        .http()
        .post('/api/api-keys')
        .set(a.headers)
        .send({ name: 'temp', scopes: ['orgs:read'] });
      const key = { 'X-API-Key': created.body.api_key as string };
      expect((await t.http().get('/api/orgs/me').set(key)).status).toBe(200);
      expect((await t.http().delete(`/api/api-keys/${created.body.id}`).set(a.headers)).status).toBe(204);
      const after = await t.http().get('/api/orgs/me').set(key);
      expect(after.status).toBe(401);
      expect(after.headers['content-type']).toMatch(/problem\+json/);
      const listed = await t.http().get('/api/api-keys?limit=200').set(a.headers);
      const row = (listed.body.items as { id: string; revoked_at: string | null }[]).find(
        (k) => k.id === created.body.id,
      );
      expect(row?.revoked_at).toEqual(expect.any(String));
      const audit = await sql<{ action: string; target_id: string }>(
        db.superuser,
        `SELECT action, target_id FROM audit_events WHERE org_id = $1 AND target_id = $2 ORDER BY seq`,
        [a.id, created.body.id],
      );
      expect(audit.map((r) => r.action)).toEqual(['api_key.created', 'api_key.revoked']);
    });

    it('a revocation reaches another instance within API_KEY_CACHE_TTL_MS (5 s), not before its cache entry ages out', async () => {
      // The other instance's clock moves only when told: the 5 s are counted, not slept.
      const clock = new ManualClock();
      const other = await createTestHttpApp({ db, role: 'api', overrides: [{ provide: Clock, useValue: clock }] });
      try {
        const created = await t
          .http()
          .post('/api/api-keys')
          .set(a.headers)
          .send({ name: 'shared', scopes: ['orgs:read'] });
        const key = { 'X-API-Key': created.body.api_key as string };
        expect((await other.http().get('/api/orgs/me').set(key)).status).toBe(200);
        await t.http().delete(`/api/api-keys/${created.body.id}`).set(a.headers).expect(204);
        // The revoking instance refuses it at once; the other serves it from its cache...
        expect((await t.http().get('/api/orgs/me').set(key)).status).toBe(401);
        clock.advance(4999);
        expect((await other.http().get('/api/orgs/me').set(key)).status).toBe(200);
        // ...until API_KEY_CACHE_TTL_MS after it last read the key, and not a moment longer.
        clock.advance(1);
        expect((await other.http().get('/api/orgs/me').set(key)).status).toBe(401);
      } finally {
        await other.close();
      }
    });

    it('an expired key is refused from the moment it expires', async () => {
      const clock = new ManualClock();
      const app = await createTestHttpApp({ db, role: 'api', overrides: [{ provide: Clock, useValue: clock }] });
      try {
        const expiresAt = clock.now() + 60_000;
        const created = await app
          .http()
          .post('/api/api-keys')
          .set(a.headers)
          .send({ name: 'short', scopes: ['orgs:read'], expires_at: new Date(expiresAt).toISOString() });
        const key = { 'X-API-Key': created.body.api_key as string };
        expect((await app.http().get('/api/orgs/me').set(key)).status).toBe(200);
        clock.advance(59_999);
        expect((await app.http().get('/api/orgs/me').set(key)).status).toBe(200);
        clock.advance(1);
        expect((await app.http().get('/api/orgs/me').set(key)).status).toBe(401);
      } finally {
        await app.close();
      }
    });

    it('401 for missing, malformed, checksum-broken and unknown keys; 400 for a bad id', async () => {
      expect((await t.http().get('/api/orgs/me')).status).toBe(401);
      expect((await t.http().get('/api/orgs/me').set('X-API-Key', 'nope')).status).toBe(401);
      const broken = a.apiKey.slice(0, -1) + (a.apiKey.endsWith('A') ? 'B' : 'A');
      expect((await t.http().get('/api/orgs/me').set('X-API-Key', broken)).status).toBe(401);
      expect((await t.http().delete('/api/api-keys/not-a-uuid').set(a.headers)).status).toBe(400);
      expect((await t.http().delete(`/api/api-keys/${randomUUID()}`).set(a.headers)).status).toBe(404);
      expect((await t.http().get('/api/api-keys?limit=0').set(a.headers)).status).toBe(400);
      expect((await t.http().get('/api/api-keys?cursor=zzz').set(a.headers)).status).toBe(400);
    });

    it('paginates keys newest first with a cursor', async () => {
      for (let i = 0; i < 3; i++)
        await t
          .http()
          .post('/api/api-keys')
          .set(b.headers)
          .send({ name: `p${i}`, scopes: ['orgs:read'] });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } = await t
          .http()
          .get(`/api/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(b.headers);
        expect(res.status).toBe(200);
        seen.push(...(res.body.items as { id: string }[]).map((k) => k.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(4); // owner key + 3
    });
  });

  it('org isolation: org B cannot see, revoke or list org A keys, nor read its org', async () => {
    const created = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'a-secret', scopes: ['orgs:read'] });
    await expectOrgIsolation(t.http, a, b, [
      {
        path: `/api/api-keys/${created.body.id}`,
        id: created.body.id,
        methods: ['delete'],
        lists: ['/api/api-keys?limit=200'],
      },
    ]);
    expect((await t.http().get('/api/orgs/me').set('X-API-Key', created.body.api_key)).status).toBe(200);
    const meB = await t.http().get('/api/orgs/me').set(b.headers);
    expect(meB.text).not.toContain(a.id);
  });

  describe('row-level security in the database', () => {
    const asOrg = (org: string, text: string, values: unknown[] = []) =>
      sql(db.runtime, `WITH ctx AS (SELECT set_config('app.current_org', $1, false)) ${text}`, [org, ...values]);

    it("with org A's context, org B's rows are invisible and cannot be written", async () => {
      const rows = await asOrg(a.id, `SELECT k.org_id FROM ctx, api_keys k`);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.org_id === a.id)).toBe(true);
      expect(await asOrg(a.id, `SELECT k.id FROM ctx, api_keys k WHERE k.org_id = $2`, [b.id])).toHaveLength(0);
      await expect(
        sql(
          db.runtime,
          `SELECT set_config('app.current_org', '${a.id}', false);
           INSERT INTO api_keys (org_id, name, prefix, last4, key_hash, scopes, created_by)
           VALUES ('${b.id}', 'x', 'cops_x', 'xxxx', 'h-${randomUUID()}', '{}', 'test')`,
        ),
      ).rejects.toThrow(/row-level security/);
    });

    it('without a context the runtime role sees no tenant rows', async () => {
      for (const table of ['api_keys', 'orgs', 'audit_events', 'domain_events']) {
        expect(await sql(db.runtime, `SELECT * FROM ${table}`)).toHaveLength(0);
      }
    });

    it('the runtime role is neither superuser nor BYPASSRLS, and readiness says RLS is enforced', async () => {
      const roles = await sql(db.runtime, `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`);
      expect(roles).toEqual([{ rolsuper: false, rolbypassrls: false }]);
      const ready = await t.http().get('/health/ready');
      expect(ready.body.details.rls).toMatchObject({ status: 'up', rls_enforced: true });
    });

    it('every table with org_id forces row-level security and has an org_id index', async () => {
      const tables = await sql<{ relname: string; relforcerowsecurity: boolean; indexed: boolean }>(
        db.superuser,
        `SELECT c.relname, c.relforcerowsecurity,
                EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = i.indkey[0]
                        WHERE i.indrelid = c.oid AND a2.attname = 'org_id') AS indexed
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
         WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      );
      expect(tables.length).toBeGreaterThanOrEqual(3);
      for (const table of tables) expect(table).toMatchObject({ relforcerowsecurity: true, indexed: true });
    });
  });

  it('route inventory: every route is @Public() or declares scopes', () => {
    const discovery = t.app.get(DiscoveryService);
    const scanner = t.app.get(MetadataScanner);
    const reflector = t.app.get(Reflector);
    const offenders: string[] = [];
    let count = 0;
    for (const wrapper of discovery.getControllers()) {
      const type = wrapper.metatype as new () => object;
      const proto = type.prototype as Record<string, unknown>;
      for (const method of scanner.getAllMethodNames(proto)) {
        const handler = proto[method] as () => unknown;
        if (reflector.get(METHOD_METADATA, handler) === undefined) continue;
        count++;
        const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, type]);
        const scopes = reflector.getAllAndOverride<string[]>(REQUIRED_SCOPES, [handler, type]);
        const anyOf = reflector.getAllAndOverride<string[]>(ANY_OF_SCOPES, [handler, type]);
        if (!isPublic && !scopes?.length && !anyOf?.length) {
          const verb = RequestMethod[reflector.get<number>(METHOD_METADATA, handler)];
          offenders.push(`${verb} ${reflector.get(PATH_METADATA, type)}/${reflector.get(PATH_METADATA, handler)}`);
        }
      }
    }
    expect(count).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });
});
