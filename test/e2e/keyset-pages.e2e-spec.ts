import { TenantContext } from '../../libs/database';
import { newestFirstQuery } from '../../libs/http';
import { Driver } from '../../src/payroll/records/entities/driver.entity';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/**
 * Newest-first lists page by (created_at, id) at full precision: the (org_id, created_at, id)
 * index serves a page without sorting the org's rows, and rows sharing a timestamp, or its
 * millisecond, are each listed exactly once.
 */
describe('keyset pages', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: { RATE_LIMIT_PRO_PER_HOUR: '1000000' } });
    org = await createTestOrg(t.app, 'Keyset Org', 'pro');
    const other = await createTestOrg(t.app, 'Other Org', 'pro');
    // 20,000 drivers in two orgs; 120 of org A's share one millisecond (and 40 one timestamp).
    await sql(
      db.superuser,
      `INSERT INTO payroll_drivers (org_id, name, pay_type, rate, created_at)
       SELECT CASE WHEN i % 2 = 0 THEN $1::uuid ELSE $2::uuid END, 'Driver ' || i, 'hourly', 20,
              now() - make_interval(secs => i) FROM generate_series(1, 20000) i`,
      [org.id, other.id],
    );
    await sql(
      db.superuser,
      `INSERT INTO payroll_drivers (org_id, name, pay_type, rate, created_at)
       SELECT $1, 'Same ms ' || i, 'hourly', 20, '2030-01-01 00:00:00.123'::timestamptz + make_interval(secs => (i % 80) / 1e6)
       FROM generate_series(1, 120) i`,
      [org.id],
    );
    await sql(db.superuser, 'ANALYZE payroll_drivers');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('a page (first or after a cursor) is read through the (org_id, created_at, id) index, without a sort', async () => {
    const first = await t.http().get('/api/payroll/drivers?limit=50').set(org.headers).expect(200);
    for (const cursor of [undefined, first.body.next_cursor as string]) {
      const plan = await t.app.get(TenantContext).run(org.id, async () => {
        const qb = newestFirstQuery(t.app.get(TenantContext).repo(Driver).createQueryBuilder('d'), {
          limit: 50,
          cursor,
        });
        const [query, params] = qb.getQueryAndParameters();
        const [row] = (await t.app.get(TenantContext).manager.query(`EXPLAIN (FORMAT JSON) ${query}`, params)) as {
          'QUERY PLAN': { Plan: PlanNode }[];
        }[];
        return nodes(row['QUERY PLAN'][0].Plan);
      });
      expect(plan.map((n) => n['Index Name']).filter(Boolean)).toContain('payroll_drivers_org_created_id');
      expect(plan.filter((n) => /Sort/.test(n['Node Type']))).toEqual([]);
    }
  });

  it('pages through rows sharing a millisecond or a timestamp: each exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 40; pages++) {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await t
        .http()
        .get(`/api/payroll/drivers?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
        .set(org.headers)
        .expect(200);
      seen.push(...(res.body.items as { id: string }[]).map((d) => d.id));
      cursor = res.body.next_cursor;
      if (seen.length >= 120) break;
    }
    const expected = await sql<{ id: string }>(
      db.superuser,
      `SELECT id FROM payroll_drivers WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT 120`,
      [org.id],
    );
    expect(seen.slice(0, 120)).toEqual(expected.map((r) => r.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it.each([
    ['garbage', 'not-base64!!'],
    ['base64 of garbage', Buffer.from('garbage').toString('base64url')],
    [
      'a year PostgreSQL cannot hold',
      Buffer.from('275760-09-13T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url'),
    ],
    [
      'a negative year',
      Buffer.from('-271821-04-20T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url'),
    ],
    ['year zero', Buffer.from('0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url')],
    ['February 30', Buffer.from('2025-02-30T00:00:00.000Z|00000000-0000-4000-8000-000000000000').toString('base64url')],
    ['an injected id', Buffer.from("2025-01-01T00:00:00.000Z|' OR 1=1 --").toString('base64url')],
    ['a NUL', Buffer.from('2025-01-01T00:00:00.000Z\u0000|00000000-0000-4000-8000-000000000000').toString('base64url')],
    ['a huge one', 'A'.repeat(5000)],
  ])('a forged cursor (%s) is a 400 problem on every kind of list', async (_, cursor) => {
    for (const path of ['/api/payroll/drivers', '/api/api-keys', '/api/sessions', '/api/payroll/tickets']) {
      const res = await t
        .http()
        .get(`${path}?cursor=${encodeURIComponent(cursor)}`)
        .set(org.headers);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status: 400,
        type: expect.stringMatching(/problem\+json/),
      });
    }
  });
});
