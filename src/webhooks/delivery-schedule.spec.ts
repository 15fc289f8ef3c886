import { httpErrorClass, nextAttempt, parseRetryAfter, RetryPolicy, scheduledDelay } from './delivery-schedule';

const policy: RetryPolicy = { schedule: [5000, 300_000, 1_800_000], jitter: 0.2, retryAfterCapSeconds: 3600 };
const now = Date.parse('2030-01-01T00:00:00Z');

describe('nextAttempt', () => {
  it('follows the schedule: attempt k failed waits schedule[k-1]', () => {
    const mid = () => 0.5; // no spread
    expect(nextAttempt({ attempt: 1, statusCode: 500 }, policy, now, mid)).toEqual({
      kind: 'retry',
      delayMs: 5000,
      reason: 'schedule',
    });
    expect(nextAttempt({ attempt: 2 }, policy, now, mid)).toMatchObject({ delayMs: 300_000 });
    expect(nextAttempt({ attempt: 3 }, policy, now, mid)).toMatchObject({ delayMs: 1_800_000 });
  });

  it('gives up once the schedule is exhausted (schedule.length + 1 attempts in all)', () => {
    expect(nextAttempt({ attempt: 4, statusCode: 500 }, policy, now)).toEqual({ kind: 'give_up' });
    expect(nextAttempt({ attempt: 9 }, policy, now)).toEqual({ kind: 'give_up' });
  });

  it('rejects nonsense attempt numbers', () => {
    expect(() => nextAttempt({ attempt: 0 }, policy, now)).toThrow();
    expect(() => nextAttempt({ attempt: 1.5 }, policy, now)).toThrow();
  });

  it('spreads by at most ±jitter', () => {
    expect(scheduledDelay(1, policy, () => 0)).toBe(4000);
    expect(scheduledDelay(1, policy, () => 1)).toBe(6000);
    expect(scheduledDelay(1, { ...policy, jitter: 0 }, () => 0)).toBe(5000);
    for (let i = 0; i < 200; i++) {
      const d = scheduledDelay(2, policy);
      expect(d).toBeGreaterThanOrEqual(240_000);
      expect(d).toBeLessThanOrEqual(360_000);
    }
  });

  it('honours Retry-After on 429 and 503 only, capped', () => {
    expect(nextAttempt({ attempt: 1, statusCode: 429, retryAfter: '120' }, policy, now)).toEqual({
      kind: 'retry',
      delayMs: 120_000,
      reason: 'retry_after',
    });
    expect(nextAttempt({ attempt: 1, statusCode: 503, retryAfter: '999999' }, policy, now)).toMatchObject({
      delayMs: 3_600_000,
      reason: 'retry_after',
    });
    const date = new Date(now + 90_000).toUTCString();
    expect(nextAttempt({ attempt: 2, statusCode: 503, retryAfter: date }, policy, now)).toMatchObject({
      delayMs: 90_000,
    });
    expect(nextAttempt({ attempt: 1, statusCode: 500, retryAfter: '120' }, policy, now, () => 0.5)).toMatchObject({
      delayMs: 5000,
      reason: 'schedule',
    });
    expect(nextAttempt({ attempt: 1, statusCode: 429, retryAfter: 'soon' }, policy, now, () => 0.5)).toMatchObject({
      reason: 'schedule',
    });
  });

  it('still gives up at the end of the schedule even with Retry-After', () => {
    expect(nextAttempt({ attempt: 4, statusCode: 429, retryAfter: '1' }, policy, now)).toEqual({ kind: 'give_up' });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000);
    expect(parseRetryAfter(['7', '9'], now)).toBe(7000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    for (const v of [undefined, null, '', '-5', '1.5', 'soon', '12:00', 'Tomorrow-ish'])
      expect(parseRetryAfter(v, now)).toBeNull();
  });
});

describe('httpErrorClass', () => {
  it('names redirects and status codes', () => {
    expect(httpErrorClass(301)).toBe('redirect');
    expect(httpErrorClass(500)).toBe('http_500');
    expect(httpErrorClass(404)).toBe('http_404');
  });
});
