import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';
import { finished } from './fixtures/payroll-seed';

/**
 * statements.csv opens in spreadsheets: user text that would run as a formula (a driver name,
 * a ticket number, a deduction name starting with = + - @, a tab or CR) is exported as text.
 */
describe('payroll statements.csv: spreadsheet formula injection', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: { PAYROLL_POLL_INTERVAL_MS: '100', RATE_LIMIT_PRO_PER_HOUR: '1000000' },
    });
    org = await createTestOrg(t.app, 'CSV Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('neutralises formula-like names, ticket numbers and deduction names; amounts stay numbers', async () => {
    const api = () => t.http();
    const driver = await api()
      .post('/api/payroll/drivers')
      .set(org.headers)
      .send({ name: '=HYPERLINK("http://evil.example","pay")', pay_type: 'per_load', rate: '100' })
      .expect(201);
    await api()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({
        tickets: [
          { ticket_number: '+SUM(1,2)', driver_id: driver.body.id, work_date: '2025-03-03', loads: '1' },
          { ticket_number: '@cmd', driver_id: driver.body.id, work_date: '2025-03-04', loads: '2' },
          { ticket_number: '\tT-3', driver_id: driver.body.id, work_date: '2025-03-05', loads: '1' },
        ],
      })
      .expect(201);
    await api()
      .post('/api/payroll/deductions')
      .set(org.headers)
      .send({ driver_id: driver.body.id, name: '-1+1 fuel', kind: 'fixed', amount_cents: 1500 })
      .expect(201);
    const run = await api()
      .post('/api/payroll/run')
      .set(org.headers)
      .send({ pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' })
      .expect(202);
    expect(['completed', 'completed_with_flags']).toContain((await finished(t, org, run.body.job_id)).status);

    const csv = await api().get(`/api/payroll/jobs/${run.body.job_id}/statements.csv`).set(org.headers).expect(200);
    const cells = csv.text.split('\r\n').flatMap((line) => line.split(','));
    const formulaLike = cells.filter((c) => /^"?[=+\-@\t\r]/.test(c));
    expect(formulaLike).toEqual([]);
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil.example""`);
    for (const text of ["'+SUM(1", "'@cmd", "'\tT-3", "'-1+1 fuel"]) expect(csv.text).toContain(text);
    expect(csv.text).toMatch(/,10000,/);
  });
});
