import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Form parameters as Twilio sends them; a repeated key keeps every value. */
export type TwilioParams = Record<string, string | string[]>;

/** Parses an `application/x-www-form-urlencoded` body exactly (repeated keys kept, in order). */
export function parseFormBody(raw: string): TwilioParams {
  const params: TwilioParams = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const seen = params[key];
    if (seen === undefined) params[key] = value;
    else params[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}

/**
 * Twilio's documented algorithm: the full URL it called, then for each POST parameter sorted by
 * name, the name followed by its value (a repeated name: once per value, values sorted), all
 * HMAC-SHA1'd with the account auth token and base64-encoded.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    for (const v of Array.isArray(value) ? [...value].sort() : [value]) data += key + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // The length of a base64 HMAC-SHA1 is public (28); only the content must not leak by timing.
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The URL with and without the scheme's default port: Twilio signs the URL as configured, and a
 * proxy may add or drop `:443` / `:80` on the way (twilio-node accepts both too).
 */
export function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  const port = /:(\d+)$/.exec(authority)?.[1];
  if (port === defaultPort) return [url, `${scheme}://${authority.slice(0, -(port.length + 1))}${rest}`];
  if (port === undefined) return [url, `${scheme}://${authority}:${defaultPort}${rest}`];
  return [url];
}

export interface TwilioRequest {
  authToken: string;
  /** The public URL Twilio called, including its query string. */
  url: string;
  /** X-Twilio-Signature, or undefined when absent. */
  signature: string | undefined;
  contentType: 'form' | 'json';
  rawBody: string;
}

/**
 * Verifies X-Twilio-Signature. Form bodies: the parameters are part of the signed string. JSON
 * bodies: Twilio signs the URL only, which carries `bodySHA256` (hex SHA-256 of the raw body).
 */
export function verifyTwilioRequest(req: TwilioRequest): boolean {
  if (!req.signature) return false;
  let params: TwilioParams = {};
  if (req.contentType === 'form') {
    params = parseFormBody(req.rawBody);
  } else {
    let expectedHash: string | null = null;
    try {
      expectedHash = new URL(req.url).searchParams.get('bodySHA256');
    } catch {
      return false;
    }
    if (!expectedHash) return false;
    const actual = createHash('sha256').update(req.rawBody, 'utf8').digest('hex');
    if (!safeEqual(actual, expectedHash.toLowerCase())) return false;
  }
  let ok = false;
  // Every variant is computed (no early exit), so timing does not tell which one matched.
  for (const url of urlVariants(req.url)) {
    if (safeEqual(twilioSignature(req.authToken, url, params), req.signature)) ok = true;
  }
  return ok;
}
