import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildUrls, EmbeddedPostgres, provisionRolesAndDatabase, RolePasswords } from '../../libs/database';
import { createTestHttpApp, freePort, sql, TEST_ROOT, TestHttpApp, testConfig, waitFor } from '../support';
import { migrateAll } from '../../src/bootstrap/database-setup';

/**
 * This file runs its own PostgreSQL server so it can stop and start it without disturbing the
 * other test files, which share the run's cluster.
 */
describe('probes while the database goes away and comes back', () => {
  let server: EmbeddedPostgres;
  let t: TestHttpApp | undefined;
  let urls: ReturnType<typeof buildUrls>;
  const dir = join(TEST_ROOT, `pg-health-${process.pid}`);

  beforeAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    server = new EmbeddedPostgres({ dataDir: dir, port: await freePort() });
    const superPassword = randomBytes(12).toString('hex');
    server.initialise(superPassword);
    await server.start();
    const pw: RolePasswords = { owner: 'o' + superPassword, runtime: 'r' + superPassword, system: 's' + superPassword };
    await provisionRolesAndDatabase(
      `postgres://postgres:${superPassword}@127.0.0.1:${server.port}/postgres`,
      'calmops',
      pw,
    );
    urls = buildUrls('127.0.0.1', server.port, 'calmops', pw);
    await migrateAll(testConfig(urls));
  });

  afterAll(async () => {
    await t?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps liveness 200 and turns readiness 503 while the database is stopped, then recovers', async () => {
    t = await createTestHttpApp({
      db: urls,
      role: 'all',
      env: { READINESS_CACHE_MS: '0', HEALTH_DB_TIMEOUT_MS: '500' },
    });
    const http = t.http;
    await waitFor(async () => (await http().get('/health/ready')).status === 200, 15000);

    await server.stop();
    const down = await waitFor(async () => {
      const res = await http().get('/health/ready');
      return res.status === 503 ? res : undefined;
    });
    expect(down.body.details.database.status).toBe('down');
    const live = await http().get('/health/live');
    expect(live.status).toBe(200);

    await server.start();
    const back = await waitFor(async () => {
      const res = await http().get('/health/ready');
      return res.status === 200 ? res : undefined;
    }, 30000);
    expect(back.body.details.database.status).toBe('up');
    expect(back.body.details.queue.status).toBe('up');
  });

  it('boots with the database down: live 200, ready 503, then ready once it starts', async () => {
    await t?.close();
    t = undefined;
    await server.stop();
    t = await createTestHttpApp({
      db: urls,
      role: 'all',
      env: { READINESS_CACHE_MS: '0', HEALTH_DB_TIMEOUT_MS: '500' },
      waitUntilReady: false,
    });
    const http = t.http;
    expect((await http().get('/health/live')).status).toBe(200);
    const ready = await http().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.database.status).toBe('down');

    await server.start();
    await waitFor(async () => (await http().get('/health/ready')).status === 200, 30000);
  });

  it('reports pending migrations as not ready', async () => {
    await sql(urls.admin, `DELETE FROM migrations`);
    const res = await waitFor(async () => {
      const r = await t!.http().get('/health/ready');
      return r.status === 503 ? r : undefined;
    });
    expect(res.body.details.migrations.status).toBe('down');
    expect(res.body.details.migrations.pending).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Foundation/), expect.stringMatching(/^Identity/)]),
    );
  });
});
