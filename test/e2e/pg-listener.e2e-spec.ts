import { randomBytes } from 'node:crypto';
import { PgListener, WakeLoop } from '../../libs/database';
import { createTestDatabase, sql, waitFor } from '../support';
import type { TestDatabase } from '../support';

describe('PgListener (LISTEN that survives a dropped connection)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('wakes on NOTIFY, and listens again after its connection is killed', async () => {
    const app = `calmops:test-listener-${randomBytes(4).toString('hex')}`;
    let wakes = 0;
    const listener = new PgListener({
      connectionString: db.system,
      channel: 'calmops_test_channel',
      applicationName: app,
      onWake: () => wakes++,
      retryMs: 100,
    });
    listener.start();
    await waitFor(() => listener.listening, 5000);
    const afterStart = wakes;
    expect(afterStart).toBe(1); // one wake when listening starts
    await sql(db.superuser, `NOTIFY calmops_test_channel`);
    await waitFor(() => wakes > afterStart, 5000);

    await sql(db.superuser, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [
      app,
    ]);
    await waitFor(() => !listener.listening, 5000);
    await waitFor(() => listener.listening, 5000);
    const afterReconnect = wakes;
    await sql(db.superuser, `NOTIFY calmops_test_channel`);
    await waitFor(() => wakes > afterReconnect, 5000);
    await listener.stop();
    expect(listener.listening).toBe(false);
  });

  it('keeps retrying while the database cannot be reached, and stop() ends it', async () => {
    let wakes = 0;
    const listener = new PgListener({
      connectionString: 'postgres://nobody:nothing@127.0.0.1:1/none',
      channel: 'calmops_test_channel',
      applicationName: 'calmops:test-unreachable',
      onWake: () => wakes++,
      retryMs: 50,
    });
    listener.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(listener.listening).toBe(false);
    expect(wakes).toBe(0);
    await listener.stop();
  });

  it('WakeLoop: one pass at a time, and wakes during a pass make exactly one more', async () => {
    let passes = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const loop = new WakeLoop({
      connectionString: db.system,
      channel: 'calmops_test_loop',
      applicationName: 'calmops:test-loop',
      intervalMs: 60_000,
      pass: async () => {
        passes++;
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await new Promise((r) => setTimeout(r, 100));
        concurrent--;
      },
      onError: () => undefined,
    });
    loop.wake();
    for (let i = 0; i < 5; i++) loop.wake();
    await waitFor(() => passes === 2 && concurrent === 0, 5000);
    await new Promise((r) => setTimeout(r, 150));
    expect(passes).toBe(2);
    expect(maxConcurrent).toBe(1);
    await loop.stop();
    loop.wake();
    expect(passes).toBe(2); // stopped: no more passes
  });
});
