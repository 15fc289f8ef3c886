import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

/** An upload's errors come in one answer, in plain English: what is wrong, and with which driver. */
describe('payroll ticket upload errors', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let driver: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    org = await createTestOrg(t.app, 'Upload Org', 'pro');
    driver = (
      await t
        .http()
        .post('/api/payroll/drivers')
        .set(org.headers)
        .send({ name: 'Known', pay_type: 'hourly', rate: '20' })
        .expect(201)
    ).body.id as string;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const tickets = async () =>
    (await sql<{ n: number }>(db.superuser, 'SELECT count(*)::int AS n FROM payroll_tickets'))[0].n;

  it('reports syntax errors and unknown drivers together, and writes nothing', async () => {
    const stranger = randomUUID();
    const res = await t
      .http()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({
        tickets: [
          { ticket_number: 'T-1', driver_id: stranger, work_date: '2025-03-01', hours: 'lots' },
          { ticket_number: 'T-2', driver_id: stranger, work_date: '2025-03-01', hours: '8' },
          { ticket_number: 'T-3', driver_id: driver, work_date: '2025-03-01', hours: '8' },
        ],
      });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('2 of 3 rows are invalid; nothing was written.');
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['tickets[0].driver_id', 'tickets[0].hours', 'tickets[1].driver_id']);
    expect(await tickets()).toBe(0);
  });

  it('says "1 of 1 row is invalid" for a single bad row, in CSV too', async () => {
    const json = await t
      .http()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({ tickets: [{ ticket_number: 'T-9', driver_id: randomUUID(), work_date: '2025-03-01', hours: '8' }] });
    expect(json.body.detail).toBe('1 of 1 row is invalid; nothing was written.');
    const csv = await t
      .http()
      .post('/api/payroll/tickets/upload')
      .set(org.headers)
      .set('Content-Type', 'text/csv')
      .send(`ticket_number,driver_id,work_date,hours\nT-1,${driver},2025-03-01,8\nT-2,${randomUUID()},2025-13-01,x\n`);
    expect(csv.status).toBe(400);
    expect(csv.body.detail).toBe('1 of 2 rows is invalid; nothing was written.');
    expect((csv.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'row 3: driver_id',
      'row 3: hours',
      'row 3: work_date',
    ]);
    expect(await tickets()).toBe(0);
  });

  it('a row that is not an object (null, a number) is a 400 naming it, not a crash', async () => {
    const res = await t
      .http()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({ tickets: [null, 7, { ticket_number: 'T-1', driver_id: driver, work_date: '2025-03-01', hours: '8' }] });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(await tickets()).toBe(0);
  });
});
