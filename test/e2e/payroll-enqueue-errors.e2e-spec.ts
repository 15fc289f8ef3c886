import { randomUUID } from 'node:crypto';
import { TenantContext } from '../../libs/database';
import type { Principal } from '../../libs/auth';
import { PayrollRunsService } from '../../src/payroll/runs/payroll-runs.service';
import { createTestDatabase, createTestHttpApp, createTestOrg, sql, TestDatabase, TestHttpApp } from '../support';

/**
 * A failure after the run row was inserted (its event row, its audit record) surfaces as
 * itself and rolls the whole request back; it is never hidden behind a savepoint error.
 */
describe('payroll enqueue: a failing write after the insert', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('reports the original error of the event insert, and stores no run', async () => {
    const org = await createTestOrg(t.app, 'Enqueue Org', 'pro');
    // An injected fault in the event store, as the database itself would raise it.
    await sql(
      db.superuser,
      `CREATE FUNCTION fail_run_event() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'event store unavailable (injected)'; END $$;
       CREATE TRIGGER fail_run_event BEFORE INSERT ON payroll_run_events FOR EACH ROW EXECUTE FUNCTION fail_run_event();`,
    );
    try {
      const principal: Principal = { kind: 'api_key', subject: randomUUID(), orgId: org.id, scopes: new Set() };
      const enqueue = t.app
        .get(TenantContext)
        .run(org.id, () =>
          t.app
            .get(PayrollRunsService)
            .enqueue(principal, { pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' }),
        );
      await expect(enqueue).rejects.toThrow('event store unavailable (injected)');
      const runs = await sql(db.superuser, `SELECT id FROM payroll_runs WHERE org_id = $1`, [org.id]);
      expect(runs).toEqual([]);

      const res = await t
        .http()
        .post('/api/payroll/run')
        .set(org.headers)
        .send({ pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' });
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(JSON.stringify(res.body)).not.toMatch(/injected|savepoint/);
    } finally {
      await sql(db.superuser, `DROP TRIGGER fail_run_event ON payroll_run_events; DROP FUNCTION fail_run_event();`);
    }
    const ok = await t
      .http()
      .post('/api/payroll/run')
      .set((await createTestOrg(t.app, 'After Org', 'pro')).headers)
      .send({ pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' });
    expect(ok.status).toBe(202);
  });
});
