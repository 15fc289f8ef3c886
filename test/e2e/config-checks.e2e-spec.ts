import { runApp } from '../support';

/**
 * A misconfigured external database is named before anything connects, with exit code 78
 * (EX_CONFIG), saying what the missing role needs; the URLs point at a port nobody listens
 * on, so a connection attempt would have failed differently.
 */
describe('configuration checks for an external PostgreSQL', () => {
  const nowhere = (role: string) => `postgres://${role}:pw@127.0.0.1:1/calmops`;

  it('task migrate without DATABASE_SYSTEM_URL: exit 78 naming it, the system role and GRANT CREATE', async () => {
    const res = await runApp(['task', 'migrate'], {
      DATABASE_URL: nowhere('calmops_app'),
      DATABASE_ADMIN_URL: nowhere('calmops_owner'),
    });
    expect(res.code).toBe(78);
    expect(res.output).toMatch(/DATABASE_SYSTEM_URL: required when DATABASE_URL is set/);
    expect(res.output).toMatch(/BYPASSRLS/);
    expect(res.output).toMatch(/GRANT CREATE ON DATABASE/);
    expect(res.output).not.toMatch(/permission denied|ECONNREFUSED/);
  });

  it('task migrate without DATABASE_ADMIN_URL: exit 78 naming the owner role', async () => {
    const res = await runApp(['task', 'migrate'], {
      DATABASE_URL: nowhere('calmops_app'),
      DATABASE_SYSTEM_URL: nowhere('calmops_sys'),
    });
    expect(res.code).toBe(78);
    expect(res.output).toMatch(/DATABASE_ADMIN_URL: required by "migrate"/);
    expect(res.output).not.toMatch(/ECONNREFUSED/);
  });

  it('the api role with DATABASE_URL only: exit 78 before connecting', async () => {
    const res = await runApp(['api'], { DATABASE_URL: nowhere('calmops_app') });
    expect(res.code).toBe(78);
    expect(res.output).toMatch(/DATABASE_SYSTEM_URL: required when DATABASE_URL is set/);
  });
});
