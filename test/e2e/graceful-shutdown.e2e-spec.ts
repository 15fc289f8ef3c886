import { join } from 'node:path';
import { createTestDatabase, freePort, spawnApp, TestDatabase, waitFor } from '../support';

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
      await waitFor(
        async () => {
          if (app.exitCode() !== null) throw new Error(`the app exited early:\n${app.output()}`);
          return (await fetch(`${base}/health/ready`)).status === 200;
        },
        120_000,
        100,
      );

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
});
