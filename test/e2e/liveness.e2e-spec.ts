import { createTestDatabase, createTestHttpApp, TestDatabase, TestHttpApp } from '../support';

interface LiveBody {
  status: string;
  details: { event_loop: { status: string; event_loop_delay_p99_ms: number; event_loop_delay_max_ms: number } };
}

/** Blocks this process' event loop (the app runs in it) for `ms`. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else runs
  }
}

describe('liveness measures the event loop', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('turns 503 after the event loop stalled beyond 2 s, and 200 again once it turns freely', async () => {
    // A fresh verdict now (the last one is over a second old), so the next window starts here
    // and holds little besides the stall: p99 over a long quiet window would not see one stall.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const first = await t.http().get('/health/live');
    expect(first.status).toBe(200);
    expect((first.body as LiveBody).details.event_loop.status).toBe('up');

    stall(2600);
    const stalled = await t.http().get('/health/live');
    expect(stalled.status).toBe(503);
    const loop = (stalled.body as LiveBody).details.event_loop;
    expect(loop.status).toBe('down');
    expect(loop.event_loop_delay_max_ms).toBeGreaterThanOrEqual(2000);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const recovered = await t.http().get('/health/live');
    expect(recovered.status).toBe(200);
    expect((recovered.body as LiveBody).details.event_loop.event_loop_delay_max_ms).toBeLessThan(2000);
  });
});
