import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'supertest';
import { generateApiKey } from '../../libs/auth';
import { PostgresThrottlerStorage, RateLimitCounterPruner } from '../../libs/auth/postgres-throttler.storage';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

const ENV = { RATE_LIMIT_FREE_PER_HOUR: '5', RATE_LIMIT_IP_PER_15_MIN: '4' };

function expectProblem(res: Response, status: number): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status, body: { status } });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

function limitHeaders(res: Response) {
  return {
    limit: Number(res.headers['ratelimit-limit']),
    remaining: Number(res.headers['ratelimit-remaining']),
    reset: Number(res.headers['ratelimit-reset']),
  };
}

/** Writes what an app counted in memory now instead of at its next flush. */
function flush(app: TestHttpApp): Promise<void> {
  return app.app.get(PostgresThrottlerStorage).flush();
}

/** hits of the one counter whose key matches the LIKE pattern, once `apps` have flushed. */
async function counter(db: TestDatabase, pattern: string, ...apps: TestHttpApp[]): Promise<number | undefined> {
  for (const app of apps) await flush(app);
  const rows = await sql<{ hits: number }>(db.system, `SELECT hits FROM rate_limit_counters WHERE key LIKE $1`, [
    pattern,
  ]);
  expect(rows.length).toBeLessThanOrEqual(1);
  return rows[0]?.hits;
}

describe('rate limits (per org plan, per IP without credentials, shared in PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let free: TestOrg;
  let pro: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, env: ENV });
    free = await createTestOrg(t.app, 'A', 'free');
    pro = await createTestOrg(t.app, 'B', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('a free org gets 5 requests an hour, with RateLimit headers, then 429 with Retry-After', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await t.http().get('/api/orgs/me').set(free.headers);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(free.id);
      const h = limitHeaders(res);
      expect(h).toEqual({ limit: 5, remaining: 5 - i, reset: expect.any(Number) });
      expect(h.reset).toBeGreaterThan(0);
      expect(h.reset).toBeLessThanOrEqual(3600);
    }
    const blocked = await t.http().get('/api/orgs/me').set(free.headers);
    expectProblem(blocked, 429);
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limitHeaders(blocked)).toMatchObject({ limit: 5, remaining: 0 });
    expect(await counter(db, `%org:${free.id}`, t)).toBe(6);
  });

  it('a pro org is not limited at 6 (10000 an hour by default)', async () => {
    for (let i = 1; i <= 6; i++) {
      const res = await t.http().get('/api/orgs/me').set(pro.headers);
      expect(res.status).toBe(200);
      expect(limitHeaders(res)).toMatchObject({ limit: 10000, remaining: 10000 - i });
    }
    expect(await counter(db, `%org:${pro.id}`, t)).toBe(6);
  });

  it('probes and metrics are never limited or counted', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await t.http().get(path);
        statuses.push(res.status);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
      }
      expect(statuses).toEqual(Array(20).fill(200));
    }
    await flush(t);
    const rows = await sql<{ key: string }>(db.system, `SELECT key FROM rate_limit_counters WHERE key LIKE '%ip:%'`);
    expect(rows).toEqual([]);
  });

  it('counts requests without valid credentials per IP: failed logins are throttled', async () => {
    const attempts = [
      { 'X-API-Key': generateApiKey().key },
      { 'X-API-Key': 'not-a-key' },
      { Authorization: 'Bearer not.a.jwt' },
      {},
    ];
    for (const headers of attempts) {
      const res = await t.http().get('/api/orgs/me').set(headers);
      expectProblem(res, 401);
      expect(limitHeaders(res).limit).toBe(4);
    }
    const blocked = await t.http().get('/api/orgs/me').set({ 'X-API-Key': generateApiKey().key });
    expectProblem(blocked, 429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(900);
    expect(await counter(db, '%:ip:%', t)).toBe(5);

    // A forged X-Forwarded-For does not buy a fresh bucket (TRUST_PROXY defaults to false).
    const forged = await t
      .http()
      .get('/api/orgs/me')
      .set({ 'X-API-Key': generateApiKey().key, 'X-Forwarded-For': '203.0.113.9' });
    expectProblem(forged, 429);

    // The IP bucket does not lock out callers with valid credentials from the same address.
    expect((await t.http().get('/api/orgs/me').set(pro.headers)).status).toBe(200);
  });

  it('two instances on one database share an org count once they have flushed', async () => {
    const other = await createTestHttpApp({ db, env: ENV });
    try {
      const org = await createTestOrg(t.app, 'C', 'free');
      const statuses: number[] = [];
      for (const app of [t, t, t]) statuses.push((await app.http().get('/api/orgs/me').set(org.headers)).status);
      await flush(t);
      for (const app of [other, other, other])
        statuses.push((await app.http().get('/api/orgs/me').set(org.headers)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      expect(await counter(db, `%org:${org.id}`, t, other)).toBe(6);
    } finally {
      await other.close();
    }
  });

  it('worst-case overshoot: within one flush window each replica admits only what it alone would, then all refuse', async () => {
    const other = await createTestHttpApp({ db, env: ENV });
    try {
      const org = await createTestOrg(t.app, 'D', 'free');
      const statuses = { t: [] as number[], other: [] as number[] };
      // No flush in between (timers stopped, however slow the machine): neither knows what the other counted.
      for (const app of [t, other]) app.app.get(PostgresThrottlerStorage).stopFlushing();
      for (let i = 0; i < 6; i++) {
        statuses.t.push((await t.http().get('/api/orgs/me').set(org.headers)).status);
        statuses.other.push((await other.http().get('/api/orgs/me').set(org.headers)).status);
      }
      // Each refuses its own 6th request: the overshoot is (replicas − 1) × what one admitted (5), no more.
      expect(statuses).toEqual({ t: [200, 200, 200, 200, 200, 429], other: [200, 200, 200, 200, 200, 429] });
      expect(await counter(db, `%org:${org.id}`, t, other)).toBe(12);
      // After a flush both see the shared total and refuse.
      for (const app of [t, other]) expectProblem(await app.http().get('/api/orgs/me').set(org.headers), 429);
      t.app.get(PostgresThrottlerStorage).startFlushing();
    } finally {
      await other.close();
    }
  });

  it('counts are written on their own every RATE_LIMIT_FLUSH_MS (and what is left at shutdown)', async () => {
    const quick = await createTestHttpApp({ db, env: { ...ENV, RATE_LIMIT_FLUSH_MS: '50' } });
    const org = await createTestOrg(t.app, 'E', 'free');
    try {
      expect((await quick.http().get('/api/orgs/me').set(org.headers)).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while ((await counter(db, `%org:${org.id}`)) !== 1 && Date.now() < deadline) await sleep(20);
      expect(await counter(db, `%org:${org.id}`)).toBe(1);
      expect((await quick.http().get('/api/orgs/me').set(org.headers)).status).toBe(200);
    } finally {
      await quick.close();
    }
    expect(await counter(db, `%org:${org.id}`)).toBe(2);
  });

  it('counters live in rate_limit_counters, which the runtime role cannot read', async () => {
    const rows = await sql<{ key: string; hits: number; expires_at: Date }>(
      db.system,
      `SELECT key, hits, expires_at FROM rate_limit_counters`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) expect(row.expires_at.getTime()).toBeGreaterThan(Date.now());
    await expect(sql(db.runtime, 'SELECT * FROM rate_limit_counters')).rejects.toThrow(/permission denied/);
    await expect(sql(db.runtime, `DELETE FROM rate_limit_counters`)).rejects.toThrow(/permission denied/);
  });

  it('the pruner deletes expired counters only', async () => {
    await sql(
      db.system,
      `INSERT INTO rate_limit_counters (key, hits, expires_at)
       SELECT 'prune-test:old:' || g, 1, now() - interval '1 minute' FROM generate_series(1, 7) g
       UNION ALL SELECT 'prune-test:live:' || g, 1, now() + interval '1 hour' FROM generate_series(1, 3) g`,
    );
    const { removed } = await t.app.get(RateLimitCounterPruner).prune();
    expect(removed).toBeGreaterThanOrEqual(7);
    const left = await sql<{ key: string }>(
      db.system,
      `SELECT key FROM rate_limit_counters WHERE key LIKE 'prune-test:%'`,
    );
    expect(left.map((r) => r.key).sort()).toEqual(['prune-test:live:1', 'prune-test:live:2', 'prune-test:live:3']);
  });
});
