import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { createPublicKey, createSecretKey, JsonWebKey, KeyObject } from 'node:crypto';
import type { Algorithm } from 'jsonwebtoken';
import { AppConfig } from '../config';

interface JwkSet {
  keys?: (JsonWebKey & { kid?: string; use?: string; alg?: string })[];
}

/**
 * Supplies the verification key of a bearer token.
 * - JWKS mode (JWT_JWKS_URL set, production): RS256/ES256 only, keys fetched from the identity
 *   provider, cached by `kid`, refetched when an unknown `kid` shows up but at most once per
 *   JWKS_MIN_REFRESH_INTERVAL_MS, so forged kids cannot make us hammer the provider.
 * - Secret mode (development): HS256 with JWT_SECRET.
 * The algorithm allow-list never mixes the two, so a token "HS256-signed with the public key"
 * cannot pass.
 */
@Injectable()
export class JwtKeysService {
  private readonly logger = new Logger('JwtKeys');
  private readonly keys = new Map<string, string>();
  private secretKey?: KeyObject;
  private lastFetch = 0;
  private inflight?: Promise<void>;

  constructor(private readonly config: AppConfig) {}

  get jwksMode(): boolean {
    return !!this.config.get('JWT_JWKS_URL');
  }

  get algorithms(): Algorithm[] {
    return this.jwksMode ? ['RS256', 'ES256'] : ['HS256'];
  }

  async keyFor(rawJwt: string): Promise<string | KeyObject> {
    if (!this.jwksMode) {
      const secret = this.config.get('JWT_SECRET');
      if (!secret) throw new UnauthorizedException('Bearer tokens are not configured on this server.');
      // A KeyObject, made once: given a string, jsonwebtoken first tries it as a public key on
      // every verify (and throws internally) before using it as an HMAC secret.
      this.secretKey ??= createSecretKey(Buffer.from(secret, 'utf8'));
      return this.secretKey;
    }
    const kid = this.kidOf(rawJwt);
    const known = this.keys.get(kid);
    // Re-read the key set now and then even when every kid is known, so withdrawn keys go.
    if (Date.now() - this.lastFetch > 10 * 60_000) void this.refresh();
    if (known) return known;
    await this.refresh();
    const fetched = this.keys.get(kid);
    if (!fetched) throw new UnauthorizedException('The token was signed with an unknown key.');
    return fetched;
  }

  private kidOf(rawJwt: string): string {
    try {
      const header = JSON.parse(Buffer.from(rawJwt.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown };
      if (typeof header.kid === 'string' && header.kid) return header.kid;
    } catch {
      // fall through
    }
    throw new UnauthorizedException('The token has no key id (kid).');
  }

  private async refresh(): Promise<void> {
    const minInterval = this.config.get('JWKS_MIN_REFRESH_INTERVAL_MS');
    if (this.inflight) return this.inflight;
    if (Date.now() - this.lastFetch < minInterval) return;
    this.lastFetch = Date.now();
    this.inflight = this.fetchKeys().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    const url = this.config.get('JWT_JWKS_URL')!;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const set = (await res.json()) as JwkSet;
      const fresh = new Map<string, string>();
      for (const jwk of set.keys ?? []) {
        if (!jwk.kid || (jwk.use && jwk.use !== 'sig') || !['RSA', 'EC'].includes(String(jwk.kty))) continue;
        const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        fresh.set(jwk.kid, pem);
      }
      // Replace, not merge: a key the provider withdrew (e.g. compromised) stops verifying.
      this.keys.clear();
      for (const [kid, pem] of fresh) this.keys.set(kid, pem);
    } catch (err) {
      this.logger.warn(`JWKS fetch from ${url} failed: ${(err as Error).message}`);
    }
  }
}
