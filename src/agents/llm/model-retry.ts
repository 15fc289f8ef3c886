import { backoffDelay } from '../../../libs/resilience';
import type { BackoffPolicy } from '../../../libs/resilience';

/** What to do about one failed model call. */
export interface ModelFailure {
  retry: boolean;
  reason: string;
  /** What the server asked for (retry-after-ms, else retry-after), before the cap. */
  retryAfterMs?: number;
}

/** 1-2-4-8 s with ±20 % jitter, at most 4 retries (5 calls). */
export const MODEL_RETRY: BackoffPolicy & { retries: number } = { baseMs: 1000, capMs: 8000, jitter: 0.2, retries: 4 };

interface ErrorLike {
  status?: number;
  headers?: { get?: (name: string) => string | null } | Record<string, string | undefined>;
  type?: string | null;
  errorCode?: string | null;
  message?: string;
  name?: string;
}

function header(e: ErrorLike, name: string): string | undefined {
  const h = e.headers;
  if (!h) return undefined;
  if (typeof (h as { get?: unknown }).get === 'function')
    return (h as { get: (n: string) => string | null }).get(name) ?? undefined;
  return (h as Record<string, string | undefined>)[name];
}

/** retry-after-ms, else retry-after (seconds or an HTTP date), in ms; undefined when absent or unreadable. */
export function retryAfterMs(e: ErrorLike, now: number): number | undefined {
  const ms = Number(header(e, 'retry-after-ms'));
  if (header(e, 'retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = header(e, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (raw.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The retry semantics of a model API: rate limits (429), overload (529), server errors (5xx),
 * timeouts and dropped connections are retried; a 429 that says the spend limit is reached,
 * bad requests, authentication and permission errors (400/401/403, and any other 4xx) are not.
 */
export function classifyModelError(err: unknown, now = Date.now()): ModelFailure {
  const e = (err ?? {}) as ErrorLike;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined) {
    const timeout = /timeout|timed out/i.test(`${e.name ?? ''} ${e.message ?? ''}`);
    return { retry: true, reason: timeout ? 'request timeout' : `connection error: ${e.message ?? 'unknown'}` };
  }
  if (status === 429) {
    if (/spend_limit|billing/i.test(`${e.errorCode ?? ''} ${e.type ?? ''}`)) {
      return { retry: false, reason: `429 spend limit reached (${e.errorCode ?? e.type})` };
    }
    return { retry: true, reason: '429 rate limited', retryAfterMs: retryAfterMs(e, now) };
  }
  if (status === 529) return { retry: true, reason: '529 overloaded', retryAfterMs: retryAfterMs(e, now) };
  if (status >= 500) return { retry: true, reason: `${status} server error`, retryAfterMs: retryAfterMs(e, now) };
  if (status === 408) return { retry: true, reason: '408 request timeout' };
  return { retry: false, reason: `${status} ${e.type ?? 'client error'}` };
}

/** How long to wait before retry number `retry` (1-based): the server's ask up to a cap, else backoff. */
export function retryWaitMs(
  retry: number,
  failure: ModelFailure,
  retryAfterCapMs: number,
  policy = MODEL_RETRY,
  random = Math.random,
): number {
  if (failure.retryAfterMs !== undefined) return Math.min(failure.retryAfterMs, retryAfterCapMs);
  return backoffDelay(retry, policy, random);
}
