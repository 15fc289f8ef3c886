import { randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  expectOrgIsolation,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';

interface Problem {
  status: number;
  errors: { field: string; message: string; row?: number | null; column?: string | null }[];
}

describe('payroll records: drivers, tickets, deductions', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let driverA: string;
  let driverB: string;

  const count = async (table: string, org: string): Promise<number> =>
    (await sql<{ n: number }>(db.superuser, `SELECT count(*)::int AS n FROM ${table} WHERE org_id = $1`, [org]))[0].n;

  const newDriver = async (org: TestOrg, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const res = await t
      .http()
      .post('/api/payroll/drivers')
      .set(org.headers)
      .send({ name: 'Driver', pay_type: 'hourly', rate: '25.5', ...body });
    expect(res.status).toBe(201);
    return res.body as Record<string, unknown>;
  };

  const uploadsCounter = async (result: string, source: string): Promise<number> => {
    const res = await t.http().get('/metrics');
    const line = res.text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('payroll_ticket_uploads_total{') &&
          l.includes(`result="${result}"`) &&
          l.includes(`source="${source}"`),
      );
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    a = await createTestOrg(t.app, 'Org A', 'pro');
    b = await createTestOrg(t.app, 'Org B', 'pro');
    driverA = (await newDriver(a, { name: 'Ana', external_ref: 'A-1' })).id as string;
    driverB = (await newDriver(b, { name: 'Bo', external_ref: 'A-1' })).id as string;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  describe('drivers', () => {
    it('creates, reads, lists and patches a driver, auditing each write', async () => {
      const created = await newDriver(a, { name: 'Cy', pay_type: 'per_ton', rate: '12.3456', overtime_exempt: true });
      expect(created).toEqual({
        id: expect.any(String),
        name: 'Cy',
        external_ref: null,
        pay_type: 'per_ton',
        rate: '12.3456',
        overtime_exempt: true,
        active: true,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      const got = await t.http().get(`/api/payroll/drivers/${created.id}`).set(a.headers);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created);

      const patched = await t
        .http()
        .patch(`/api/payroll/drivers/${created.id}`)
        .set(a.headers)
        .send({ rate: 30, active: false, external_ref: 'C-9' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ rate: '30.0000', active: false, external_ref: 'C-9', name: 'Cy' });

      const inactive = await t.http().get('/api/payroll/drivers?active=false&limit=200').set(a.headers);
      expect(inactive.body.items.map((d: { id: string }) => d.id)).toEqual([created.id]);
      const active = await t.http().get('/api/payroll/drivers?active=true&limit=200').set(a.headers);
      expect(active.body.items.map((d: { id: string }) => d.id)).not.toContain(created.id);

      const audit = await sql<{ action: string; data: { changes?: Record<string, unknown> } }>(
        db.superuser,
        `SELECT action, data FROM audit_events WHERE org_id = $1 AND target_id = $2 ORDER BY seq`,
        [a.id, created.id],
      );
      expect(audit.map((e) => e.action)).toEqual(['payroll.driver.created', 'payroll.driver.updated']);
      expect(audit[1].data.changes).toEqual({
        rate: { from: '12.3456', to: '30.0000' },
        active: { from: true, to: false },
        external_ref: { from: null, to: 'C-9' },
      });
    });

    it('takes rate as a decimal string or number with at most 4 places, refusing anything else by name', async () => {
      expect((await newDriver(a, { rate: 12.3456 })).rate).toBe('12.3456');
      expect((await newDriver(a, { rate: '0' })).rate).toBe('0.0000');
      const before = await count('payroll_drivers', a.id);
      for (const rate of ['12.34567', 1e-7, -1, '-1', '1e3', '12,5', '', null, 'abc', '10000000000']) {
        const res = await t
          .http()
          .post('/api/payroll/drivers')
          .set(a.headers)
          .send({ name: 'X', pay_type: 'hourly', rate });
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
        expect((res.body as Problem).errors.map((e) => e.field)).toEqual(['rate']);
      }
      const patch = await t.http().patch(`/api/payroll/drivers/${driverA}`).set(a.headers).send({ rate: '1.00001' });
      expect(patch.status).toBe(400);
      expect(await count('payroll_drivers', a.id)).toBe(before);
    });

    it('refuses unknown fields, bad pay types, nulls and bad ids; unknown ids are 404', async () => {
      const post = (body: object) => t.http().post('/api/payroll/drivers').set(a.headers).send(body);
      expect((await post({ name: 'X', pay_type: 'hourly', rate: '1', org_id: b.id })).status).toBe(400);
      expect((await post({ name: 'X', pay_type: 'weekly', rate: '1' })).status).toBe(400);
      expect((await post({ name: ' ', pay_type: 'hourly', rate: '1' })).status).toBe(400);
      expect((await post({ pay_type: 'hourly', rate: '1' })).status).toBe(400);
      const patch = (id: string, body: object) =>
        t.http().patch(`/api/payroll/drivers/${id}`).set(a.headers).send(body);
      expect((await patch(driverA, { colour: 'red' })).status).toBe(400);
      expect((await patch(driverA, { name: null })).status).toBe(400);
      expect((await patch(driverA, { active: 'yes' })).status).toBe(400);
      expect((await patch('not-a-uuid', { name: 'x' })).status).toBe(400);
      expect((await patch(randomUUID(), { name: 'x' })).status).toBe(404);
      expect((await t.http().get('/api/payroll/drivers/not-a-uuid').set(a.headers)).status).toBe(400);
      expect((await t.http().get(`/api/payroll/drivers/${randomUUID()}`).set(a.headers)).status).toBe(404);
      expect((await t.http().get('/api/payroll/drivers?active=maybe').set(a.headers)).status).toBe(400);
      expect((await t.http().get('/api/payroll/drivers?cursor=zzz').set(a.headers)).status).toBe(400);
    });

    it('a repeated external_ref in one org is a 409 problem, on create and on patch', async () => {
      const dup = await t
        .http()
        .post('/api/payroll/drivers')
        .set(a.headers)
        .send({ name: 'Dup', pay_type: 'salary', rate: '1000', external_ref: 'A-1' });
      expect(dup.status).toBe(409);
      expect(dup.headers['content-type']).toMatch(/application\/problem\+json/);
      expect((dup.body as Problem).errors[0].field).toBe('external_ref');
      const other = await newDriver(a, { external_ref: 'A-2' });
      const clash = await t
        .http()
        .patch(`/api/payroll/drivers/${other.id}`)
        .set(a.headers)
        .send({ external_ref: 'A-1' });
      expect(clash.status).toBe(409);
      const cleared = await t
        .http()
        .patch(`/api/payroll/drivers/${other.id}`)
        .set(a.headers)
        .send({ external_ref: null });
      expect(cleared.body.external_ref).toBeNull();
    });

    it('paginates newest first with a cursor, without gaps or repeats', async () => {
      const org = await createTestOrg(t.app, 'Pager', 'pro');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await newDriver(org, { name: `P${i}` })).id as string);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await t
          .http()
          .get(`/api/payroll/drivers?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(org.headers)
          .expect(200);
        seen.push(...res.body.items.map((d) => d.id));
        cursor = res.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual([...made].reverse());
    });
  });

  describe('tickets', () => {
    const ticket = (i: number, extra: Record<string, unknown> = {}) => ({
      ticket_number: `T-${i}`,
      driver_id: driverA,
      work_date: '2025-03-01',
      hours: '8.25',
      revenue_cents: 12345,
      ...extra,
    });

    it('accepts a JSON batch of 5,000 tickets in one request', async () => {
      const before = await count('payroll_tickets', a.id);
      const accepted = await uploadsCounter('accepted', 'json');
      const tickets = Array.from({ length: 5000 }, (_, i) => ticket(i, i % 2 ? { tons: 22.125, loads: '1' } : {}));
      const started = process.hrtime.bigint();
      const res = await t.http().post('/api/payroll/tickets').set(a.headers).send({ tickets });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(`payroll-records: POST /api/payroll/tickets with 5,000 rows took ${ms.toFixed(0)} ms\n`);
      expect(res.status).toBe(201);
      expect(res.body.inserted).toBe(5000);
      expect(new Set(res.body.ticket_ids).size).toBe(5000);
      expect(await count('payroll_tickets', a.id)).toBe(before + 5000);
      const [first] = await sql(db.superuser, `SELECT ticket_number, tons, hours FROM payroll_tickets WHERE id = $1`, [
        res.body.ticket_ids[1],
      ]);
      expect(first).toEqual({ ticket_number: 'T-1', tons: '22.125', hours: '8.250' });
      expect(await uploadsCounter('accepted', 'json')).toBe(accepted + 1);
      const audit = await sql<{ data: { count: number; source: string } }>(
        db.superuser,
        `SELECT data FROM audit_events WHERE org_id = $1 AND action = 'payroll.tickets.imported'`,
        [a.id],
      );
      expect(audit.map((e) => e.data)).toContainEqual(expect.objectContaining({ count: 5000, source: 'json' }));
    });

    it('refuses a whole batch with one bad row, naming the row and field, and writes nothing', async () => {
      const before = await count('payroll_tickets', a.id);
      const rejected = await uploadsCounter('rejected', 'json');
      const tickets = Array.from({ length: 5000 }, (_, i) => ticket(i, i === 2499 ? { hours: '-1' } : {}));
      const res = await t.http().post('/api/payroll/tickets').set(a.headers).send({ tickets });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect((res.body as Problem).errors).toEqual([
        { field: 'tickets[2499].hours', row: 2500, column: 'hours', message: 'hours must not be negative' },
      ]);
      expect(await count('payroll_tickets', a.id)).toBe(before);
      expect(await uploadsCounter('rejected', 'json')).toBe(rejected + 1);
    });

    it('checks every field of a row and the batch size', async () => {
      const before = await count('payroll_tickets', a.id);
      const bad = [
        ticket(1, { work_date: '2025-02-30' }),
        ticket(2, { tons: '1.2345', revenue_cents: 1.5 }),
        ticket(3, { driver_id: 'nope', colour: 'red' }),
        { driver_id: driverA, work_date: '2025-03-01' },
        ticket(4, { revenue_cents: '100' }),
      ];
      const res = await t.http().post('/api/payroll/tickets').set(a.headers).send({ tickets: bad });
      expect(res.status).toBe(400);
      expect((res.body as Problem).errors.map((e) => e.field).sort()).toEqual(
        [
          'tickets[0].work_date',
          'tickets[1].tons',
          'tickets[1].revenue_cents',
          'tickets[2].colour',
          'tickets[2].driver_id',
          'tickets[3].ticket_number',
          'tickets[4].revenue_cents',
        ].sort(),
      );
      for (const tickets of [[], Array.from({ length: 5001 }, (_, i) => ticket(i))]) {
        const sized = await t.http().post('/api/payroll/tickets').set(a.headers).send({ tickets });
        expect(sized.status).toBe(400);
        expect((sized.body as Problem).errors[0].field).toBe('tickets');
      }
      expect((await t.http().post('/api/payroll/tickets').set(a.headers).send({})).status).toBe(400);
      expect(await count('payroll_tickets', a.id)).toBe(before);
    });

    it("refuses a ticket for another org's driver as a 400 that reveals nothing", async () => {
      const before = await count('payroll_tickets', a.id);
      const res = await t
        .http()
        .post('/api/payroll/tickets')
        .set(a.headers)
        .send({ tickets: [ticket(1), ticket(2, { driver_id: driverB })] });
      expect(res.status).toBe(400);
      expect((res.body as Problem).errors).toEqual([
        {
          field: 'tickets[1].driver_id',
          row: 2,
          column: 'driver_id',
          message: 'driver_id is not a driver of this org',
        },
      ]);
      const unknown = await t
        .http()
        .post('/api/payroll/tickets')
        .set(a.headers)
        .send({ tickets: [ticket(1, { driver_id: randomUUID() })] });
      expect(unknown.body.errors[0].message).toBe(res.body.errors[0].message);
      expect(await count('payroll_tickets', a.id)).toBe(before);
      expect(await count('payroll_tickets', b.id)).toBe(0);
    });

    it('accepts a CSV upload with quoted fields, CRLF and columns in any order', async () => {
      const before = await count('payroll_tickets', a.id);
      const accepted = await uploadsCounter('accepted', 'csv');
      const csv =
        'work_date,ticket_number,driver_id,hours,tons,revenue_cents\r\n' +
        `2025-03-02,"CSV-1, north pit",${driverA},8.5,,125000\r\n` +
        `2025-03-02,"CSV-2 ""rush""",${driverA},,22.125,\r\n` +
        `"2025-03-03","CSV-3\r\nsecond line",${driverA},1,2,3\r\n`;
      const res = await t.http().post('/api/payroll/tickets/upload').set(a.headers).type('text/csv').send(csv);
      expect(res.status).toBe(201);
      expect(res.body.inserted).toBe(3);
      expect(await count('payroll_tickets', a.id)).toBe(before + 3);
      const rows = await sql(
        db.superuser,
        `SELECT ticket_number, hours, tons, revenue_cents FROM payroll_tickets
         WHERE org_id = $1 AND ticket_number LIKE 'CSV-%' ORDER BY ticket_number`,
        [a.id],
      );
      expect(rows).toEqual([
        { ticket_number: 'CSV-1, north pit', hours: '8.500', tons: null, revenue_cents: '125000' },
        { ticket_number: 'CSV-2 "rush"', hours: null, tons: '22.125', revenue_cents: null },
        { ticket_number: 'CSV-3\r\nsecond line', hours: '1.000', tons: '2.000', revenue_cents: '3' },
      ]);
      expect(await uploadsCounter('accepted', 'csv')).toBe(accepted + 1);
    });

    it('refuses a CSV with a bad row or bad syntax and writes nothing; other media types are 415', async () => {
      const before = await count('payroll_tickets', a.id);
      const rejected = await uploadsCounter('rejected', 'csv');
      const upload = (body: string, type = 'text/csv') =>
        t.http().post('/api/payroll/tickets/upload').set(a.headers).type(type).send(body);
      const badRow = await upload(
        `ticket_number,driver_id,work_date,hours\r\nOK-1,${driverA},2025-03-01,1\r\nBAD-1,${driverA},2025-03-01,-1\r\n`,
      );
      expect(badRow.status).toBe(400);
      expect((badRow.body as Problem).errors).toEqual([
        { field: 'row 3: hours', row: 3, column: 'hours', line: 3, message: 'hours must not be negative' },
      ]);
      const syntax = await upload(`ticket_number,driver_id,work_date\r\n"open,${driverA},2025-03-01\r\n`);
      expect(syntax.status).toBe(400);
      expect((syntax.body as Problem).errors[0].field).toBe('line 2');
      const header = await upload(`ticket_number,driver,work_date\r\nX,${driverA},2025-03-01\r\n`);
      expect((header.body as Problem).errors.map((e) => e.field)).toEqual(['row 1: driver', 'row 1: driver_id']);
      expect(await count('payroll_tickets', a.id)).toBe(before);
      expect(await uploadsCounter('rejected', 'csv')).toBe(rejected + 3);

      const plain = await upload(`ticket_number,driver_id,work_date\r\nX,${driverA},2025-03-01\r\n`, 'text/plain');
      expect(plain.status).toBe(415);
      expect(plain.headers['content-type']).toMatch(/application\/problem\+json/);
      const json = await t.http().post('/api/payroll/tickets/upload').set(a.headers).send({ tickets: [] });
      expect(json.status).toBe(415);
      const csvToJsonRoute = await t.http().post('/api/payroll/tickets').set(a.headers).type('text/csv').send('a,b\n');
      expect(csvToJsonRoute.status).toBe(415);
      expect(await count('payroll_tickets', a.id)).toBe(before);
    });

    it('lists tickets with filters and a cursor', async () => {
      const org = await createTestOrg(t.app, 'Ticket lister', 'pro');
      const d1 = (await newDriver(org)).id as string;
      const d2 = (await newDriver(org)).id as string;
      const tickets = ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-03'].map((work_date, i) => ({
        ticket_number: `L-${i}`,
        driver_id: i % 2 ? d2 : d1,
        work_date,
      }));
      await t.http().post('/api/payroll/tickets').set(org.headers).send({ tickets }).expect(201);
      const get = (query: string) => t.http().get(`/api/payroll/tickets?${query}`).set(org.headers);
      const all = await get('limit=3');
      expect(all.body.items.map((x: { work_date: string }) => x.work_date)).toEqual([
        '2025-01-03',
        '2025-01-03',
        '2025-01-02',
      ]);
      const rest = await get(`limit=3&cursor=${all.body.next_cursor}`);
      expect(rest.body).toEqual({ items: [expect.objectContaining({ ticket_number: 'L-0' })], next_cursor: null });
      expect((await get(`driver_id=${d2}`)).body.items).toHaveLength(2);
      expect((await get('work_date_from=2025-01-02&work_date_to=2025-01-02')).body.items).toHaveLength(1);
      expect((await get('work_date_from=2025-01-03&work_date_to=2025-01-01')).status).toBe(400);
      expect((await get('work_date_from=2025-13-01')).status).toBe(400);
      expect((await get('driver_id=nope')).status).toBe(400);
    });
  });

  describe('deductions', () => {
    const post = (body: object, org = a) => t.http().post('/api/payroll/deductions').set(org.headers).send(body);

    it('creates fixed and percent deductions with cents as numbers', async () => {
      const fixed = await post({
        driver_id: driverA,
        name: 'Lease',
        kind: 'fixed',
        amount_cents: 15000,
        max_total_cents: 90000,
      });
      expect(fixed.status).toBe(201);
      expect(fixed.body).toEqual({
        id: expect.any(String),
        driver_id: driverA,
        name: 'Lease',
        kind: 'fixed',
        amount_cents: 15000,
        percent: null,
        priority: 100,
        max_total_cents: 90000,
        active: true,
        created_at: expect.any(String),
      });
      const percent = await post({ driver_id: driverA, name: 'Fuel', kind: 'percent', percent: '12.5', priority: 5 });
      expect(percent.status).toBe(201);
      expect(percent.body).toMatchObject({ percent: '12.5000', amount_cents: null, priority: 5 });
      const listed = await t.http().get(`/api/payroll/deductions?driver_id=${driverA}`).set(a.headers);
      expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([percent.body.id, fixed.body.id]);
      const audit = await sql(db.superuser, `SELECT action FROM audit_events WHERE target_id = $1`, [fixed.body.id]);
      expect(audit).toEqual([{ action: 'payroll.deduction.created' }]);
    });

    it('refuses inconsistent kinds, out-of-range values and other orgs’ drivers, writing nothing', async () => {
      const before = await count('payroll_deductions', a.id);
      const base = { driver_id: driverA, name: 'X' };
      const cases: [object, string[]][] = [
        [{ ...base, kind: 'fixed' }, ['amount_cents']],
        [{ ...base, kind: 'percent', percent: 150 }, ['percent']],
        [{ ...base, kind: 'percent', percent: '0' }, ['percent']],
        [{ ...base, kind: 'percent', percent: '1.23456' }, ['percent']],
        [{ ...base, kind: 'fixed', amount_cents: 100, percent: '5' }, ['percent']],
        [{ ...base, kind: 'percent', amount_cents: 100, percent: '5' }, ['amount_cents']],
        [{ ...base, kind: 'fixed', amount_cents: 0 }, ['amount_cents']],
        [{ ...base, kind: 'fixed', amount_cents: 1.5 }, ['amount_cents']],
        [{ ...base, kind: 'fixed', amount_cents: 100, max_total_cents: 0 }, ['max_total_cents']],
        [{ ...base, kind: 'fixed', amount_cents: 100, priority: 1.5 }, ['priority']],
        [{ ...base, kind: 'weekly', amount_cents: 100 }, ['kind']],
        [{ ...base, driver_id: driverB, kind: 'fixed', amount_cents: 100 }, ['driver_id']],
        [{ ...base, driver_id: randomUUID(), kind: 'fixed', amount_cents: 100 }, ['driver_id']],
      ];
      for (const [body, fields] of cases) {
        const res = await post(body);
        expect([res.status, JSON.stringify(body)]).toEqual([400, JSON.stringify(body)]);
        expect([...new Set((res.body as Problem).errors.map((e) => e.field))]).toEqual(fields);
      }
      expect(await count('payroll_deductions', a.id)).toBe(before);
      expect(await count('payroll_deductions', b.id)).toBe(0);
    });
  });

  it('a payroll:read key reads but cannot write', async () => {
    const created = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'viewer', scopes: ['payroll:read'] });
    const viewer = { 'X-API-Key': created.body.api_key as string };
    expect((await t.http().get('/api/payroll/drivers').set(viewer)).status).toBe(200);
    expect((await t.http().get('/api/payroll/tickets').set(viewer)).status).toBe(200);
    expect((await t.http().get('/api/payroll/deductions').set(viewer)).status).toBe(200);
    const writes = [
      t.http().post('/api/payroll/drivers').set(viewer).send({ name: 'X', pay_type: 'hourly', rate: '1' }),
      t.http().patch(`/api/payroll/drivers/${driverA}`).set(viewer).send({ name: 'X' }),
      t
        .http()
        .post('/api/payroll/tickets')
        .set(viewer)
        .send({ tickets: [{ ticket_number: 'V', driver_id: driverA, work_date: '2025-03-01' }] }),
      t
        .http()
        .post('/api/payroll/tickets/upload')
        .set(viewer)
        .type('text/csv')
        .send(`ticket_number,driver_id,work_date\nV,${driverA},2025-03-01\n`),
      t
        .http()
        .post('/api/payroll/deductions')
        .set(viewer)
        .send({ driver_id: driverA, name: 'X', kind: 'fixed', amount_cents: 1 }),
    ];
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it("org isolation: org B never sees or changes org A's drivers, tickets or deductions", async () => {
    const tickets = await t
      .http()
      .post('/api/payroll/tickets')
      .set(a.headers)
      .send({ tickets: [{ ticket_number: 'ISO-1', driver_id: driverA, work_date: '2025-04-01' }] });
    const ticketId = tickets.body.ticket_ids[0] as string;
    const deduction = await t
      .http()
      .post('/api/payroll/deductions')
      .set(a.headers)
      .send({ driver_id: driverA, name: 'Iso', kind: 'fixed', amount_cents: 100 });
    await t
      .http()
      .post('/api/payroll/tickets')
      .set(b.headers)
      .send({ tickets: [{ ticket_number: 'B-1', driver_id: driverB, work_date: '2025-04-01' }] })
      .expect(201);
    await expectOrgIsolation(t.http, a, b, [
      {
        path: `/api/payroll/drivers/${driverA}`,
        id: driverA,
        methods: ['get', 'patch'],
        body: { name: 'Stolen', active: false },
        lists: ['/api/payroll/drivers?limit=200', '/api/payroll/drivers?active=true&limit=200'],
      },
    ]);
    for (const list of [
      '/api/payroll/tickets?limit=200',
      `/api/payroll/tickets?driver_id=${driverA}`,
      '/api/payroll/deductions?limit=200',
      `/api/payroll/deductions?driver_id=${driverA}`,
    ]) {
      const res = await t.http().get(list).set(b.headers);
      expect(res.status).toBe(200);
      for (const id of [driverA, ticketId, deduction.body.id as string]) expect(res.text).not.toContain(id);
    }
    const own = await t.http().get('/api/payroll/tickets?limit=200').set(b.headers);
    expect(own.body.items.map((x: { ticket_number: string }) => x.ticket_number)).toEqual(['B-1']);
  });
});
