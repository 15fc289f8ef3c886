import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** A webhook target was refused because it is (or resolves to) a non-public address. */
export class SsrfBlockedError extends Error {
  override readonly name = 'SsrfBlockedError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface TargetPolicy {
  /** Allow plain http:// (WEBHOOKS_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Allow loopback/private/link-local… targets (WEBHOOKS_ALLOW_PRIVATE_TARGETS). */
  allowPrivate: boolean;
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all of its addresses (dns.lookup with all: true by default). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address (e.g. cloud metadata)',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private network address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique local address',
  deprecatedSiteLocal: 'a site-local address',
  teredo: 'a Teredo tunnel address',
  ipv4Compatible: 'an IPv4-compatible IPv6 address',
};

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function describe(range: string): string {
  return RANGE_NAMES[range] ?? `a non-public address (${range})`;
}

function v4FromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64, SIIT, 6to4), if any. */
function embeddedV4(addr: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const p = addr.parts;
  if (addr.isIPv4MappedAddress()) return { v4: addr.toIPv4Address(), form: 'IPv4-mapped' };
  if (addr.match(NAT64_WELL_KNOWN)) return { v4: v4FromParts(p[6], p[7]), form: 'NAT64' };
  const range = addr.range();
  if (range === 'rfc6145') return { v4: v4FromParts(p[6], p[7]), form: 'IPv4-translated' };
  if (range === '6to4') return { v4: v4FromParts(p[1], p[2]), form: '6to4' };
  return undefined;
}

function blockedV4(addr: ipaddr.IPv4): string | null {
  const range = addr.range();
  return range === 'unicast' ? null : describe(range);
}

function blockedV6(addr: ipaddr.IPv6): string | null {
  const inner = embeddedV4(addr);
  if (inner) {
    const why = blockedV4(inner.v4);
    return why ? `${why} in ${inner.form} form (${inner.v4.toString()})` : null;
  }
  const range = addr.range();
  // ::a.b.c.d (deprecated IPv4-compatible, ::/96); :: and ::1 have their own ranges.
  if (range === 'unicast' && addr.parts.slice(0, 6).every((x) => x === 0)) return describe('ipv4Compatible');
  return range === 'unicast' ? null : describe(range);
}

/**
 * Why `ip` (an IPv4 address in any notation ipaddr.js accepts, or IPv6) must not be a webhook
 * target, or null when it is a public unicast address.
 */
export function isBlockedAddress(ip: string): string | null {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!ipaddr.isValid(text)) return 'not an IP address';
  const addr = ipaddr.parse(text);
  return addr.kind() === 'ipv4' ? blockedV4(addr as ipaddr.IPv4) : blockedV6(addr as ipaddr.IPv6);
}

/** Lower-case, without IPv6 brackets or a trailing root dot. */
export function normalizeHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

function ipLiteralReason(host: string): string | null | undefined {
  if (!ipaddr.isValid(host)) return undefined;
  const why = isBlockedAddress(host);
  return why ? `${host} is ${why}; only public addresses are allowed` : null;
}

/**
 * Static check of a webhook target URL: scheme, no credentials, and — unless private targets
 * are allowed — no localhost name and no non-public IP literal in any notation. Host names are
 * checked again on every connection (resolveAndCheck), since DNS answers can change.
 */
export function checkTargetUrl(url: string, opts: TargetPolicy): TargetCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'must be an absolute http(s) URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${parsed.protocol.replace(/:$/, '')} is not allowed; use https` };
  }
  if (parsed.protocol === 'http:' && !opts.allowHttp) return { ok: false, reason: 'must use https' };
  if (parsed.username || parsed.password) return { ok: false, reason: 'must not contain credentials' };
  const host = normalizeHost(parsed.hostname);
  if (!host) return { ok: false, reason: 'must have a host' };
  if (opts.allowPrivate) return { ok: true };
  if (isLocalhostName(host)) return { ok: false, reason: `${host} is a loopback name; only public hosts are allowed` };
  const why = ipLiteralReason(host);
  return why ? { ok: false, reason: why } : { ok: true };
}

/**
 * Resolves `hostname` and refuses it (SsrfBlockedError) when ANY address is non-public, unless
 * allowPrivate. IP literals are checked without DNS. Returns the checked addresses with family.
 */
export async function resolveChecked(
  hostname: string,
  allowPrivate: boolean,
  resolver: HostResolver = systemResolver,
): Promise<ResolvedAddress[]> {
  const host = normalizeHost(hostname);
  if (ipaddr.isValid(host)) {
    const why = allowPrivate ? null : ipLiteralReason(host);
    if (why) throw new SsrfBlockedError(why);
    const addr = ipaddr.parse(host);
    return [{ address: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6 }];
  }
  if (!allowPrivate && isLocalhostName(host)) {
    throw new SsrfBlockedError(`${host} is a loopback name; only public hosts are allowed`);
  }
  const addresses = await resolver(host);
  if (!addresses.length) throw new Error(`${host} did not resolve to any address`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const why = isBlockedAddress(a.address);
      if (why)
        throw new SsrfBlockedError(`${host} resolves to ${a.address}, ${why}; only public addresses are allowed`);
    }
  }
  return addresses;
}

/** resolveChecked, as plain address strings. */
export async function resolveAndCheck(
  hostname: string,
  allowPrivate: boolean,
  resolver?: HostResolver,
): Promise<string[]> {
  return (await resolveChecked(hostname, allowPrivate, resolver)).map((a) => a.address);
}
