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
  /**
   * Allow loopback targets (127.0.0.0/8, ::1, localhost): a receiver on the developer's own
   * machine (WEBHOOKS_ALLOW_PRIVATE_TARGETS). Nothing else non-public, ever.
   */
  allowLoopback: boolean;
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

/** Names of cloud metadata services: refused whatever they resolve to, and whatever the flag. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
  'metadata.platformequinix.com',
]);

function metadataHostReason(host: string): string | null {
  return METADATA_HOSTS.has(host) ? `${host} is a cloud metadata service; it is never a webhook target` : null;
}

/** Loopback in any form: 127.0.0.0/8, ::1, and IPv4 loopback carried in an IPv6 address. */
function isLoopbackAddress(ip: string): boolean {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!ipaddr.isValid(text)) return false;
  const addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv4') return addr.range() === 'loopback';
  const v6 = addr as ipaddr.IPv6;
  return v6.range() === 'loopback' || embeddedV4(v6)?.v4.range() === 'loopback';
}

/** Why an address is refused under the policy, or null (public, or loopback when allowed). */
function blockedUnder(ip: string, allowLoopback: boolean): string | null {
  const why = isBlockedAddress(ip);
  return why && !(allowLoopback && isLoopbackAddress(ip)) ? why : null;
}

function ipLiteralReason(host: string, allowLoopback: boolean): string | null | undefined {
  if (!ipaddr.isValid(host)) return undefined;
  const why = blockedUnder(host, allowLoopback);
  return why ? `${host} is ${why}; only public addresses are allowed` : null;
}

/**
 * Static check of a webhook target URL: scheme, no credentials, no cloud metadata host name,
 * and no non-public IP literal in any notation nor localhost name (loopback only when
 * allowLoopback). Host names are checked again on every connection (resolveAndCheck), since
 * DNS answers can change.
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
  const metadata = metadataHostReason(host);
  if (metadata) return { ok: false, reason: metadata };
  if (isLocalhostName(host)) {
    return opts.allowLoopback
      ? { ok: true }
      : { ok: false, reason: `${host} is a loopback name; only public hosts are allowed` };
  }
  const why = ipLiteralReason(host, opts.allowLoopback);
  return why ? { ok: false, reason: why } : { ok: true };
}

/**
 * Resolves `hostname` and refuses it (SsrfBlockedError) when ANY address is non-public (loopback
 * excepted when allowLoopback). IP literals are checked without DNS. Returns the checked
 * addresses with their family.
 */
export async function resolveChecked(
  hostname: string,
  allowLoopback: boolean,
  resolver: HostResolver = systemResolver,
): Promise<ResolvedAddress[]> {
  const host = normalizeHost(hostname);
  const metadata = metadataHostReason(host);
  if (metadata) throw new SsrfBlockedError(metadata);
  if (ipaddr.isValid(host)) {
    const why = ipLiteralReason(host, allowLoopback);
    if (why) throw new SsrfBlockedError(why);
    const addr = ipaddr.parse(host);
    return [{ address: addr.toString(), family: addr.kind() === 'ipv4' ? 4 : 6 }];
  }
  if (!allowLoopback && isLocalhostName(host)) {
    throw new SsrfBlockedError(`${host} is a loopback name; only public hosts are allowed`);
  }
  const addresses = await resolver(host);
  if (!addresses.length) throw new Error(`${host} did not resolve to any address`);
  for (const a of addresses) {
    const why = blockedUnder(a.address, allowLoopback);
    if (why) throw new SsrfBlockedError(`${host} resolves to ${a.address}, ${why}; only public addresses are allowed`);
  }
  return addresses;
}

/** resolveChecked, as plain address strings. */
export async function resolveAndCheck(
  hostname: string,
  allowLoopback: boolean,
  resolver?: HostResolver,
): Promise<string[]> {
  return (await resolveChecked(hostname, allowLoopback, resolver)).map((a) => a.address);
}
