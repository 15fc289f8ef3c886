import { createServer, Socket, connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseService } from '../../libs/database';
import {
  createTestDatabase,
  freePort,
  spawnApp,
  sql,
  TestDatabase,
  testConfig,
  waitFor,
  waitUntilReady,
} from '../support';

describe('graceful shutdown of the built application', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finishes an in-flight request after SIGTERM, reports not ready while draining, exits 0', async () => {
    const port = await freePort();
    const app = spawnApp(
      [],
      {
        DATABASE_URL: db.runtime,
        DATABASE_ADMIN_URL: db.admin,
        DATABASE_SYSTEM_URL: db.system,
        PORT: String(port),
        // Long enough that a loaded machine still sees the not-ready window before the drain.
        SHUTDOWN_DELAY_MS: '5000',
        READINESS_CACHE_MS: '0',
      },
      join(__dirname, 'fixtures', 'slow-app.js'),
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(app, `${base}/health/ready`);

      const started = Date.now();
      const slow = fetch(`${base}/test/slow?ms=2000`).then(async (r) => ({ status: r.status, body: await r.json() }));
      await new Promise((r) => setTimeout(r, 200));
      app.child.kill('SIGTERM');

      // During SHUTDOWN_DELAY_MS the server still answers, and readiness says 503.
      await new Promise((r) => setTimeout(r, 200));
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { details: { shutdown: { status: string } } };
      expect(body.details.shutdown.status).toBe('down');
      expect((await fetch(`${base}/health/live`)).status).toBe(200);

      const result = await slow;
      expect(result).toEqual({ status: 200, body: { done: true } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);

      expect(await app.exited).toBe(0);
      // After the drain nothing is listening any more.
      await expect(fetch(`${base}/health/live`)).rejects.toThrow();
    } finally {
      await app.stop('SIGKILL');
    }
    expect(app.output()).not.toMatch(/"level":50/);
  });

  it('a database connect still in flight when shutdown begins settles first and closes what it opened', async () => {
    // A slow database at boot: a proxy that holds every connection until released.
    const target = new URL(db.runtime);
    const held: Socket[] = [];
    let released = false;
    const pipe = (client: Socket) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    };
    const proxy = createServer((client) => (released ? pipe(client) : held.push(client)));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const via = (url: string) => Object.assign(new URL(url), { host: `127.0.0.1:${port}` }).toString();
    const service = new DatabaseService(
      testConfig({ runtime: via(db.runtime), system: via(db.system), admin: db.admin }),
    );
    const ours = async () =>
      (
        await sql<{ n: number }>(
          db.superuser,
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name IN ('calmops:app', 'calmops:system')`,
        )
      )[0].n;
    try {
      service.onModuleInit();
      await waitFor(() => held.length >= 1, 10_000);
      const stopping = service.onApplicationShutdown();
      await new Promise((r) => setTimeout(r, 300));
      released = true;
      held.splice(0).forEach(pipe);
      await stopping;
      // Once shutdown returned, no pool of it is open, and none opens later.
      expect(service.connected).toBe(false);
      expect(await ours()).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      expect(service.connected).toBe(false);
      expect(await ours()).toBe(0);
    } finally {
      if (service.connected) await Promise.all([service.app.destroy(), service.system.destroy()]);
      await new Promise((r) => proxy.close(r));
    }
  });
});
