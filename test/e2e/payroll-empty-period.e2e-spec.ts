import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp } from '../support';
import { finished } from './fixtures/payroll-seed';

/**
 * A period without a single ticket is most likely a wrong period: the run completes but ends
 * completed_with_flags with a NO_TICKETS warning, rather than as a quiet zero-pay success.
 */
describe('payroll: a period with no tickets', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: { PAYROLL_POLL_INTERVAL_MS: '100' } });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('ends completed_with_flags with a NO_TICKETS warning and zero totals', async () => {
    const org = await createTestOrg(t.app, 'Empty Period Org', 'pro');
    const driver = await t
      .http()
      .post('/api/payroll/drivers')
      .set(org.headers)
      .send({ name: 'Hourly Hal', pay_type: 'hourly', rate: '30' })
      .expect(201);
    // A ticket exists, in another period than the one asked for.
    await t
      .http()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({ tickets: [{ ticket_number: 'T-1', driver_id: driver.body.id, work_date: '2020-03-02', hours: '8' }] })
      .expect(201);
    const res = await t
      .http()
      .post('/api/payroll/run')
      .set(org.headers)
      .send({ pay_period_start: '2020-02-01', pay_period_end: '2020-02-14' })
      .expect(202);
    const job = await finished(t, org, res.body.job_id);
    expect(job.status).toBe('completed_with_flags');
    expect(job.totals).toEqual({ gross_cents: 0, deductions_cents: 0, net_cents: 0, held_cents: 0 });
    expect(job.flags).toEqual({
      blocking: 0,
      warning: 1,
      run: [{ code: 'NO_TICKETS', message: 'No ticket of the org falls in 2020-02-01..2020-02-14.' }],
    });
  });
});
