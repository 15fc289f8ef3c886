import { classifyModelError, retryAfterMs, retryWaitMs } from './model-retry';

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null });

describe('model retry policy', () => {
  it('reads retry-after-ms first, then retry-after as seconds or an HTTP date', () => {
    expect(retryAfterMs({ headers: headers({ 'retry-after-ms': '250', 'retry-after': '9' }) }, 0)).toBe(250);
    expect(retryAfterMs({ headers: headers({ 'retry-after': '3' }) }, 0)).toBe(3000);
    const now = Date.parse('2026-12-04T10:00:00Z');
    expect(retryAfterMs({ headers: headers({ 'retry-after': 'Fri, 04 Dec 2026 10:00:07 GMT' }) }, now)).toBe(7000);
    expect(retryAfterMs({ headers: headers({ 'retry-after': 'soon' }) }, 0)).toBeUndefined();
    expect(retryAfterMs({ headers: { 'retry-after': '1' } }, 0)).toBe(1000);
  });

  it('classifies what is retried and what is fatal', () => {
    expect(classifyModelError({ status: 429 })).toMatchObject({ retry: true, reason: '429 rate limited' });
    expect(classifyModelError({ status: 429, errorCode: 'enforced_spend_limit_reached' }).retry).toBe(false);
    expect(classifyModelError({ status: 429, type: 'billing_error' }).retry).toBe(false);
    expect(classifyModelError({ status: 529 }).retry).toBe(true);
    expect(classifyModelError({ status: 502 }).retry).toBe(true);
    expect(classifyModelError({ status: 408 }).retry).toBe(true);
    for (const status of [400, 401, 403, 404, 413]) expect(classifyModelError({ status }).retry).toBe(false);
    expect(classifyModelError({ name: 'APIConnectionTimeoutError', message: 'Request timed out.' })).toEqual({
      retry: true,
      reason: 'request timeout',
    });
    expect(classifyModelError(new Error('socket hang up')).retry).toBe(true);
  });

  it('waits what the server asked, capped, else 1-2-4-8 s ± 20 %', () => {
    expect(retryWaitMs(1, { retry: true, reason: 'x', retryAfterMs: 5000 }, 60000)).toBe(5000);
    expect(retryWaitMs(1, { retry: true, reason: 'x', retryAfterMs: 500000 }, 60000)).toBe(60000);
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => retryWaitMs(n, { retry: true, reason: 'x' }, 60000, undefined, mid))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(retryWaitMs(1, { retry: true, reason: 'x' }, 60000, undefined, () => 0)).toBe(800);
    expect(retryWaitMs(4, { retry: true, reason: 'x' }, 60000, undefined, () => 1)).toBe(8000);
  });
});
