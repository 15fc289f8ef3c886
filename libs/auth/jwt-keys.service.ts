import { Injectable, UnauthorizedException } from '@nestjs/common';
import { createRemoteJWKSet, decodeProtectedHeader } from 'jose';
import type { JWSHeaderParameters } from 'jose';
import { createSecretKey, KeyObject } from 'node:crypto';
import type { Algorithm } from 'jsonwebtoken';
import { AppConfig } from '../config';

/**
 * Supplies the verification key of a bearer token.
 * - JWKS mode (JWT_JWKS_URL set, production): RS256/ES256 only, keys from the identity
 *   provider through jose's remote key set: cached, refetched when an unknown `kid` shows up
 *   but at most once per JWKS_MIN_REFRESH_INTERVAL_MS (so forged kids cannot make us hammer
 *   the provider), and re-read every 10 minutes even when every kid is known, so a key the
 *   provider withdrew stops verifying.
 * - Secret mode (development): HS256 with JWT_SECRET.
 * The algorithm allow-list never mixes the two, so a token "HS256-signed with the public key"
 * cannot pass.
 */
@Injectable()
export class JwtKeysService {
  private secretKey?: KeyObject;
  private remote?: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: AppConfig) {}

  get jwksMode(): boolean {
    return !!this.config.get('JWT_JWKS_URL');
  }

  get algorithms(): Algorithm[] {
    return this.jwksMode ? ['RS256', 'ES256'] : ['HS256'];
  }

  async keyFor(rawJwt: string): Promise<KeyObject> {
    if (!this.jwksMode) {
      const secret = this.config.get('JWT_SECRET');
      if (!secret) throw new UnauthorizedException('Bearer tokens are not configured on this server.');
      // A KeyObject, made once: given a string, jsonwebtoken first tries it as a public key on
      // every verify (and throws internally) before using it as an HMAC secret.
      this.secretKey ??= createSecretKey(Buffer.from(secret, 'utf8'));
      return this.secretKey;
    }
    const header = this.headerOf(rawJwt);
    this.remote ??= createRemoteJWKSet(new URL(this.config.get('JWT_JWKS_URL')!), {
      cooldownDuration: this.config.get('JWKS_MIN_REFRESH_INTERVAL_MS'),
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5000,
    });
    try {
      return (await this.remote(header)) as KeyObject;
    } catch (err) {
      // No key for this kid and algorithm (after a refetch, when the interval allowed one), or
      // the provider could not be read: the token cannot be verified.
      throw new UnauthorizedException(
        (err as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY'
          ? 'The token was signed with an unknown key.'
          : 'The token cannot be verified right now (the key set is unavailable).',
      );
    }
  }

  /** The token's protected header; a kid is required (the key set is chosen by it). */
  private headerOf(rawJwt: string): JWSHeaderParameters {
    try {
      const header = decodeProtectedHeader(rawJwt);
      if (typeof header.kid === 'string' && header.kid) return header;
    } catch {
      // fall through
    }
    throw new UnauthorizedException('The token has no key id (kid).');
  }
}
