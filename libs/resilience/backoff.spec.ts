import { backoffDelay, BackoffPolicy, retryWithBackoff, RetryAbortedError } from './backoff';

const noJitter: BackoffPolicy = { baseMs: 100, capMs: 1000, jitter: 0 };

describe('backoffDelay', () => {
  it('doubles from baseMs with each attempt', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, noJitter))).toEqual([100, 200, 400, 800]);
  });

  it('is capped at capMs', () => {
    expect(backoffDelay(5, noJitter)).toBe(1000);
    expect(backoffDelay(50, noJitter)).toBe(1000);
    expect(backoffDelay(5000, noJitter)).toBe(1000);
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffDelay(0, noJitter)).toBe(100);
  });

  it('spreads the delay by at most ±jitter', () => {
    const policy = { baseMs: 1000, capMs: 60000, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(800);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(1000);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(1200);
    expect(backoffDelay(3, policy, () => 0)).toBe(3200);
    for (let i = 0; i <= 100; i++) {
      const d = backoffDelay(2, policy, () => i / 100);
      expect(d).toBeGreaterThanOrEqual(1600);
      expect(d).toBeLessThanOrEqual(2400);
    }
  });

  it('never exceeds capMs even with jitter', () => {
    const policy = { baseMs: 1000, capMs: 1500, jitter: 0.5 };
    expect(backoffDelay(10, policy, () => 0.999999)).toBe(1500);
    expect(backoffDelay(10, policy, () => 0)).toBe(750);
  });
});

describe('retryWithBackoff', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const policy = { baseMs: 100, capMs: 1000, jitter: 0 };

  it('returns at once when the first attempt succeeds', async () => {
    const fn = jest.fn(async () => 'ok');
    await expect(retryWithBackoff(fn, { ...policy, attempts: 3 })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(1);
  });

  it('retries with growing delays, then succeeds', async () => {
    const fn = jest.fn(async (attempt: number) => {
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return `ok on ${attempt}`;
    });
    const onRetry = jest.fn();
    const result = retryWithBackoff(fn, { ...policy, attempts: 5, onRetry });

    await jest.advanceTimersByTimeAsync(0);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(99);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(fn).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);

    await expect(result).resolves.toBe('ok on 3');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(onRetry.mock.calls).toEqual([
      [new Error('fail 1'), 1, 100],
      [new Error('fail 2'), 2, 200],
    ]);
  });

  it('gives up after `attempts` and rethrows the last error', async () => {
    let n = 0;
    const fn = jest.fn(async () => {
      throw new Error(`fail ${++n}`);
    });
    const result = retryWithBackoff(fn, { ...policy, attempts: 3 });
    const assertion = expect(result).rejects.toThrow('fail 3');
    await jest.advanceTimersByTimeAsync(10000);
    await assertion;
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const fn = jest.fn(async () => {
      throw new Error('down');
    });
    const result = retryWithBackoff(fn, { ...policy, attempts: Infinity, signal: controller.signal });
    const assertion = expect(result).rejects.toBeInstanceOf(RetryAbortedError);
    await jest.advanceTimersByTimeAsync(350); // attempts at 0, 100, 300
    expect(fn).toHaveBeenCalledTimes(3);
    controller.abort();
    await assertion;
    await jest.advanceTimersByTimeAsync(10000);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not retry when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const fn = jest.fn(async () => {
      throw new Error('down');
    });
    await expect(retryWithBackoff(fn, { ...policy, attempts: 5, signal: controller.signal })).rejects.toThrow('down');
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
