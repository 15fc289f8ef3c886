import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

/** What PostgreSQL or the validators would choke on is a 400 problem+json that stores nothing. */
describe('hostile input: NUL, lone surrogates, prototype keys, absurd nesting', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: { RATE_LIMIT_PRO_PER_HOUR: '1000000' } });
    org = await createTestOrg(t.app, 'Hostile Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const drivers = async () =>
    (await sql<{ n: number }>(db.superuser, `SELECT count(*)::int AS n FROM payroll_drivers`))[0].n;
  const expectProblem = (res: { status: number; headers: Record<string, string>; body: { errors?: unknown[] } }) => {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors?.length).toBeGreaterThan(0);
  };
  const postJson = (path: string, raw: string) =>
    t.http().post(path).set(org.headers).set('Content-Type', 'application/json').send(raw);

  it.each([
    ['a NUL in a string', '{"name":"Dana\\u0000","pay_type":"hourly","rate":"20"}'],
    ['a lone surrogate in a string', '{"name":"Dana \\ud800","pay_type":"hourly","rate":"20"}'],
    ['a __proto__ key', '{"name":"Dana","pay_type":"hourly","rate":"20","__proto__":{"x":1}}'],
    ['a constructor key', '{"name":"Dana","pay_type":"hourly","rate":"20","constructor":{"x":1}}'],
    ['10,000 levels of nesting', `{"name":${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
  ])('%s → 400, nothing stored', async (_, raw) => {
    const before = await drivers();
    expectProblem(await postJson('/api/payroll/drivers', raw));
    expect(await drivers()).toBe(before);
  });

  it('a NUL in a query filter and in a CSV upload → 400', async () => {
    expectProblem(await t.http().get('/api/payroll/jobs?status=%00').set(org.headers));
    const csv = 'ticket_number,driver_id,work_date\nT-\u00001,00000000-0000-0000-0000-000000000000,2025-03-01\n';
    const upload = await t
      .http()
      .post('/api/payroll/tickets/upload')
      .set(org.headers)
      .set('Content-Type', 'text/csv')
      .send(csv);
    expectProblem(upload);
  });

  it('ordinary Unicode passes', async () => {
    const res = await postJson('/api/payroll/drivers', '{"name":"Zoë 😀 東京","pay_type":"hourly","rate":"20"}');
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Zoë 😀 東京');
  });
});
