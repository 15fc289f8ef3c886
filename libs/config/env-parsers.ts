/**
 * Parsers for environment variables. Each throws an Error whose message explains the
 * expected form; the loader collects those messages for every bad variable at once.
 */

export function parseInteger(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
}

export function parseEnum<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim() as T;
    if (!values.includes(v)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return v;
  };
}

export function parsePostgresUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL like postgres://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`must use the postgres:// scheme, got "${url.protocol}"`);
  }
  if (!url.pathname || url.pathname === '/') throw new Error('must name a database');
  return raw;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** Accepts "1mb", "512kb" or a number of bytes; returns bytes. */
export function parseByteSize(raw: string): number {
  const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw.trim());
  if (!m) throw new Error(`must be a size like 1mb, 512kb or 1048576, got "${raw}"`);
  const bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()];
  if (bytes < 1024 || bytes > 100 * 1024 * 1024) throw new Error('must be between 1kb and 100mb');
  return bytes;
}

/** Comma-separated list of http(s) origins, or "*" (refused in production). */
export function parseOrigins(raw: string): string[] | '*' {
  const v = raw.trim();
  if (v === '*') return '*';
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of list) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`"${origin}" is not an origin like https://app.example.com`);
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.origin !== origin) {
      throw new Error(`"${origin}" is not an origin like https://app.example.com (no path, no trailing slash)`);
    }
  }
  return list;
}

export function parseHttpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be an http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('must be an http(s) URL');
  return raw;
}

/** A secret must be long and not trivially guessable (never echoed in the message). */
export function parseSecret(minLength: number) {
  return (raw: string): string => {
    if (raw.length < minLength) throw new Error(`must be at least ${minLength} characters`);
    if (new Set(raw).size < 10) throw new Error('is too repetitive to be a secret; generate a random one');
    if (/^(changeme|secret|password|example)/i.test(raw))
      throw new Error('looks like a placeholder; generate a random one');
    return raw;
  };
}

/**
 * Express `trust proxy`: `false` (use the socket address), a number of hops, or a list of
 * names/CIDRs. Never `true`: that would let any client choose its own IP with X-Forwarded-For.
 */
export function parseTrustProxy(raw: string): false | number | string[] {
  const v = raw.trim();
  if (v === 'false' || v === '') return false;
  if (v === 'true') throw new Error('"true" trusts any client\'s X-Forwarded-For; give a hop count or proxy addresses');
  if (/^\d+$/.test(v)) return Number(v);
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  for (const item of list) {
    if (!named.has(item) && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(item)) {
      throw new Error(`"${item}" is not loopback, linklocal, uniquelocal, an IP or a CIDR`);
    }
  }
  return list;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5s,5m,30m,2h" → milliseconds. */
export function parseDurationList(raw: string): number[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length || parts.length > 50) throw new Error('must list 1 to 50 durations like 5s,5m,2h');
  return parts.map((p) => {
    const m = /^(\d+)(ms|s|m|h)$/.exec(p);
    if (!m) throw new Error(`"${p}" is not a duration like 500ms, 5s, 5m or 2h`);
    return Number(m[1]) * DURATION_UNITS[m[2]];
  });
}

/** A JSON object (its shape is checked by whoever reads it). */
export function parseJsonObject(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('must be a JSON object');
  return value as Record<string, unknown>;
}

/** Slack and Discord incoming webhooks take a chat message, not a signed event. */
export function isChatWebhookUrl(url: string): boolean {
  const { hostname, pathname } = new URL(url);
  return (
    hostname === 'hooks.slack.com' ||
    ((hostname === 'discord.com' || hostname === 'discordapp.com') && pathname.startsWith('/api/webhooks/'))
  );
}

/** A non-negative decimal as its canonical string (prices; computed with decimal.js, never floats). */
export function parseDecimalString(raw: string): string {
  const v = raw.trim();
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(v)) throw new Error(`"${raw}" is not a non-negative decimal (e.g. 3 or 0.8)`);
  return v;
}
