import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretKeyBytes } from './webhook-secrets';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing and verification, pure.
 * The signed content is `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 keyed by
 * the base64-decoded secret after `whsec_`; the header carries `v1,<base64>` per secret,
 * space-separated (two during a rotation overlap).
 */

const VERSION = 'v1';

function hmac(secret: string, msgId: string, timestampSec: number | string, body: string | Buffer): Buffer {
  return createHmac('sha256', secretKeyBytes(secret))
    .update(`${msgId}.${timestampSec}.`, 'utf8')
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest();
}

/** The `webhook-signature` header value: one `v1,<sig>` per secret. */
export function signStandard(msgId: string, timestampSec: number, body: string, secrets: readonly string[]): string {
  if (!secrets.length) throw new Error('signStandard needs at least one secret');
  return secrets.map((s) => `${VERSION},${hmac(s, msgId, timestampSec, body).toString('base64')}`).join(' ');
}

export type StandardVerifyFailure =
  'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'no_matching_signature';

/** Thrown by verifyStandard; `reason` is safe to log (it never carries secret material). */
export class StandardWebhookError extends Error {
  constructor(readonly reason: StandardVerifyFailure) {
    super(`webhook signature verification failed: ${reason}`);
    this.name = 'StandardWebhookError';
  }
}

export interface StandardVerified {
  id: string;
  timestamp: number;
}

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies a received request. Returns the message id and timestamp, or throws
 * StandardWebhookError (fails closed: there is no "false" to forget to check). `secret` may be
 * a list to accept any of several secrets; `now` is milliseconds since the epoch.
 */
export function verifyStandard(
  headers: HeaderBag,
  body: string | Buffer,
  secret: string | readonly string[],
  toleranceSec = 300,
  now: number = Date.now(),
): StandardVerified {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !ts || !signatures) throw new StandardWebhookError('missing_headers');
  if (!/^\d{1,12}$/.test(ts)) throw new StandardWebhookError('invalid_timestamp');
  const timestamp = Number(ts);
  const nowSec = Math.floor(now / 1000);
  if (timestamp < nowSec - toleranceSec) throw new StandardWebhookError('timestamp_too_old');
  if (timestamp > nowSec + toleranceSec) throw new StandardWebhookError('timestamp_too_new');

  const expected = (typeof secret === 'string' ? [secret] : secret).map((s) => hmac(s, id, ts, body));
  let matched = false;
  for (const part of signatures.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== VERSION) continue;
    const given = Buffer.from(part.slice(comma + 1), 'base64');
    for (const want of expected) {
      // Length differs only for garbage input; timingSafeEqual needs equal lengths.
      if (given.length === want.length && timingSafeEqual(given, want)) matched = true;
    }
  }
  if (!matched) throw new StandardWebhookError('no_matching_signature');
  return { id, timestamp };
}

/** `<type>: k=v, …` for Slack incoming webhooks (top-level scalars only, at most 300 characters). */
export function slackText(type: string, data: Record<string, unknown>): string {
  const parts = Object.entries(data)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 6)
    .map(([k, v]) => `${k}=${String(v)}`);
  const text = parts.length ? `${type}: ${parts.join(', ')}` : type;
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

export interface WebhookRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * The request of one attempt. 'standard': the envelope {id, type, created_at, org_id, data} in
 * that key order, signed for this attempt's timestamp (webhook-id = event id on every attempt).
 * 'slack': `{text}`, unsigned (Slack's incoming webhooks check no signature).
 */
export function webhookRequest(
  payload: Record<string, unknown>,
  format: 'standard' | 'slack',
  secrets: readonly string[],
  nowMs: number,
): WebhookRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'CalmOps-Webhooks/1' };
  const { id, type, created_at, org_id, data } = payload as Record<string, unknown> & { id: string; type: string };
  if (format === 'slack') {
    return { body: JSON.stringify({ text: slackText(type, (data ?? {}) as Record<string, unknown>) }), headers };
  }
  const body = JSON.stringify({ id, type, created_at, org_id, data });
  const timestamp = Math.floor(nowMs / 1000);
  headers['webhook-id'] = id;
  headers['webhook-timestamp'] = String(timestamp);
  headers['webhook-signature'] = signStandard(id, timestamp, body, secrets);
  return { body, headers };
}
