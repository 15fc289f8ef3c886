import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DatabaseService, TenantContext } from '../../libs/database';
import { createServiceContext, createTestDatabase, sql, TestDatabase } from '../support';

/**
 * TenantContext.run opens its transaction and sets the org in one statement, then hands the
 * transaction to TypeORM: what row-level security sees, and how commit, rollback and nested
 * transactions (savepoints) behave.
 */
describe('TenantContext (service)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  const orgA = randomUUID();
  const orgB = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createServiceContext({ db });
    await sql(db.superuser, `INSERT INTO orgs (id, name, plan) VALUES ($1, 'A', 'pro'), ($2, 'B', 'pro')`, [
      orgA,
      orgB,
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const tenant = () => app.get(TenantContext);
  const drivers = (orgId: string) =>
    sql<{ name: string }>(db.superuser, `SELECT name FROM payroll_drivers WHERE org_id = $1 ORDER BY name`, [orgId]);
  const insertDriver = (name: string) =>
    tenant().manager.query(
      `INSERT INTO payroll_drivers (org_id, name, pay_type) VALUES (current_setting('app.current_org')::uuid, $1, 'salary')`,
      [name],
    );

  it('runs in one transaction of the runtime role with app.current_org set, and RLS shows that org only', async () => {
    const seen = await tenant().run(orgA, async () => {
      const [row] = (await tenant().manager.query(
        `SELECT current_setting('app.current_org') AS org, current_user AS role,
                (SELECT count(*)::int FROM orgs) AS orgs_visible`,
      )) as { org: string; role: string; orgs_visible: number }[];
      return row;
    });
    expect(seen.org).toBe(orgA);
    expect(seen.role).not.toBe('postgres');
    expect(seen.orgs_visible).toBe(1);
  });

  it('commits on success; rolls back everything when the work throws; runs after-commit hooks only on commit', async () => {
    const hooks: string[] = [];
    await tenant().run(orgA, async () => {
      await insertDriver('kept');
      tenant().onCommit(() => hooks.push('committed'));
    });
    await expect(
      tenant().run(orgA, async () => {
        await insertDriver('dropped');
        tenant().onCommit(() => hooks.push('never'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await drivers(orgA)).map((d) => d.name)).toEqual(['kept']);
    expect(hooks).toEqual(['committed']);
  });

  it('a nested transaction is a savepoint: its rollback keeps the outer work, and the setting survives it', async () => {
    await tenant().run(orgB, async () => {
      await insertDriver('outer');
      await expect(
        tenant().manager.transaction(async (inner) => {
          await inner.query(`INSERT INTO payroll_drivers (org_id, name, pay_type) VALUES ($1, 'inner', 'salary')`, [
            orgB,
          ]);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await tenant().manager.transaction(async (inner) => {
        await inner.query(`INSERT INTO payroll_drivers (org_id, name, pay_type) VALUES ($1, 'inner ok', 'salary')`, [
          orgB,
        ]);
      });
      const [row] = (await tenant().manager.query(`SELECT current_setting('app.current_org') AS org`)) as {
        org: string;
      }[];
      expect(row.org).toBe(orgB);
    });
    expect((await drivers(orgB)).map((d) => d.name)).toEqual(['inner ok', 'outer']);
  });

  it('the setting does not outlive the transaction on the pooled connection', async () => {
    await tenant().run(orgA, async () => undefined);
    const rows = await Promise.all(
      Array.from({ length: 12 }, () =>
        app.get(DatabaseService).app.query(`SELECT coalesce(current_setting('app.current_org', true), '') AS org`),
      ),
    );
    for (const [row] of rows as { org: string }[][]) expect(row.org).toBe('');
  });

  it('refuses an org id that is not a UUID before touching the database', async () => {
    await expect(tenant().run(`${orgA}'; DROP TABLE orgs; --`, async () => undefined)).rejects.toThrow(/not a UUID/);
    await expect(tenant().run('', async () => undefined)).rejects.toThrow(/not a UUID/);
  });
});
