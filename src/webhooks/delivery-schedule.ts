/**
 * When a failed delivery attempt is tried again (pure). Attempt k (1-based) failed: past the
 * end of the schedule the delivery has failed for good; otherwise the next attempt waits
 * schedule[k-1] ± jitter, unless a 429/503 answer named a Retry-After, which is honoured up to
 * a cap.
 */

export interface RetryPolicy {
  /** Delays in ms after attempt 1, 2, …; its length bounds the retries. */
  schedule: readonly number[];
  /** Fraction of random spread, 0..1 (0.2 = ±20 %). */
  jitter: number;
  /** Longest Retry-After honoured, in seconds. */
  retryAfterCapSeconds: number;
}

export interface FailedAttempt {
  /** 1-based number of the attempt that failed. */
  attempt: number;
  statusCode?: number | null;
  /** The Retry-After response header, if any. */
  retryAfter?: string | string[] | null;
}

export type NextStep = { kind: 'retry'; delayMs: number; reason: 'schedule' | 'retry_after' } | { kind: 'give_up' };

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP date; null if absent or unreadable. */
export function parseRetryAfter(value: string | string[] | null | undefined, now: number): number | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands); must name a weekday or month.
  if (!/[a-z]{3}/i.test(raw)) return null;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** schedule[k-1] spread by ±jitter; never negative. */
export function scheduledDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = policy.schedule[attempt - 1];
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

export function nextAttempt(
  failed: FailedAttempt,
  policy: RetryPolicy,
  now: number = Date.now(),
  random: () => number = Math.random,
): NextStep {
  if (!Number.isInteger(failed.attempt) || failed.attempt < 1)
    throw new Error(`attempt must be ≥ 1: ${failed.attempt}`);
  if (failed.attempt > policy.schedule.length) return { kind: 'give_up' };
  if (failed.statusCode === 429 || failed.statusCode === 503) {
    const asked = parseRetryAfter(failed.retryAfter, now);
    if (asked !== null) {
      return { kind: 'retry', delayMs: Math.min(asked, policy.retryAfterCapSeconds * 1000), reason: 'retry_after' };
    }
  }
  return { kind: 'retry', delayMs: scheduledDelay(failed.attempt, policy, random), reason: 'schedule' };
}

/** The error_class of an HTTP answer that was not a success. */
export function httpErrorClass(statusCode: number): string {
  if (statusCode >= 300 && statusCode < 400) return 'redirect';
  return `http_${statusCode}`;
}
