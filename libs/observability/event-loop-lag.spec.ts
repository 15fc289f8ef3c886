import { EventLoopLag } from './event-loop-lag';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

describe('EventLoopLag', () => {
  const lag = new EventLoopLag(10).start();
  afterAll(() => lag.stop());

  it('sees a stall in an I/O-phase callback (setImmediate) as well as in a timer', async () => {
    for (const schedule of [setImmediate, (f: () => void) => setTimeout(f, 15)]) {
      await sleep(30);
      lag.take();
      await new Promise<void>((resolve) =>
        schedule(() => {
          block(300);
          resolve();
        }),
      );
      await sleep(40);
      const w = lag.take();
      expect(w.maxMs).toBeGreaterThanOrEqual(250);
      expect(w.count).toBeGreaterThan(0);
    }
  });

  it('a quiet window is a small lag, and take() starts a new window', async () => {
    await sleep(30);
    lag.take();
    await sleep(100);
    const w = lag.take();
    expect(w.count).toBeGreaterThan(0);
    expect(w.maxMs).toBeLessThan(250);
    expect(lag.take().count).toBe(0);
  });
});
