import { ExecutionContext, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../config';
import { Clock } from '../core';
import { DatabaseService } from '../database';
import { hashApiKey, looksLikeApiKey } from './api-key-format';
import { BearerGuard } from './bearer-guard';
import { Principal } from './principal';
import { resolveScopes, Scope } from './scopes';

interface CachedKey {
  principal: Principal | null;
  keyId?: string;
  expiresAt: number | null;
  until: number;
}

interface KeyRow {
  id: string;
  org_id: string | null;
  plan: string | null;
  scopes: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const RESOLVED = Symbol('resolvedPrincipal');
type Memo = Request & { [RESOLVED]?: Promise<Principal | null>; user?: Principal };

const LAST_USED_WRITE_MS = 60_000;

/**
 * Turns a request's credentials into a Principal. API keys are looked up by SHA-256 through the
 * system connection (the org is not known before the key is) and cached for
 * API_KEY_CACHE_TTL_MS: a revocation is seen at once here (`forgetKey`) and within that TTL on
 * every other instance. The result is memoised on the request so the rate limiter and the
 * guard share one lookup.
 */
@Injectable()
export class CredentialResolver {
  private readonly logger = new Logger('Auth');
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly bearer = new BearerGuard();

  constructor(
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** null when the request carries no credentials; throws 401 when they are invalid. */
  resolve(context: ExecutionContext): Promise<Principal | null> {
    const req = context.switchToHttp().getRequest<Memo>();
    req[RESOLVED] ??= this.resolveUncached(context, req);
    return req[RESOLVED];
  }

  private async resolveUncached(context: ExecutionContext, req: Memo): Promise<Principal | null> {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey) {
      const principal = await this.resolveApiKey(apiKey);
      if (!principal) throw new UnauthorizedException('The API key is unknown, expired or revoked.');
      return principal;
    }
    const authorization = req.headers.authorization;
    if (!authorization) return null;
    if (!/^Bearer\s+\S+$/i.test(authorization)) {
      throw new UnauthorizedException('Authorization must be "Bearer <token>".');
    }
    try {
      await this.bearer.canActivate(context);
    } catch (err) {
      if (err instanceof UnauthorizedException) throw err;
      this.logger.warn(`bearer verification error: ${(err as Error).message}`);
      throw new UnauthorizedException('The bearer token could not be verified.');
    }
    if (!req.user) throw new UnauthorizedException('The bearer token is invalid.');
    return req.user;
  }

  async resolveApiKey(key: string): Promise<Principal | null> {
    if (!looksLikeApiKey(key)) return null;
    const hash = hashApiKey(key);
    const now = this.clock.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until <= now) {
      entry = await this.load(hash);
      this.cache.set(hash, entry);
    }
    if (!entry.principal || (entry.expiresAt !== null && entry.expiresAt <= now)) return null;
    this.touch(entry);
    return entry.principal;
  }

  /** Drops a key from this instance's cache (called right after it is revoked). */
  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.keyId === keyId) this.cache.delete(hash);
  }

  private async load(hash: string): Promise<CachedKey> {
    const until = this.clock.now() + this.config.get('API_KEY_CACHE_TTL_MS');
    const orgRows = (await this.db.system.query(
      `SELECT k.id, k.org_id, o.plan, k.scopes, k.expires_at, k.revoked_at, k.last_used_at
       FROM api_keys k JOIN orgs o ON o.id = k.org_id WHERE k.key_hash = $1`,
      [hash],
    )) as KeyRow[];
    const platformRows = orgRows.length
      ? []
      : ((await this.db.system.query(
          `SELECT id, NULL AS org_id, NULL AS plan, NULL AS scopes, NULL AS expires_at, revoked_at, last_used_at
           FROM platform_api_keys WHERE key_hash = $1`,
          [hash],
        )) as KeyRow[]);
    const row = orgRows[0] ?? platformRows[0];
    if (!row || row.revoked_at) return { principal: null, keyId: row?.id, expiresAt: null, until };
    const principal: Principal = row.org_id
      ? {
          kind: 'api_key',
          subject: row.id,
          orgId: row.org_id,
          plan: row.plan ?? 'free',
          scopes: withoutPlatform(resolveScopes([], row.scopes ?? [])),
        }
      : { kind: 'platform_key', subject: row.id, scopes: new Set<Scope>(['platform:admin']) };
    if (row.last_used_at) this.lastUsedWritten.set(row.id, row.last_used_at.getTime());
    return { principal, keyId: row.id, expiresAt: row.expires_at ? row.expires_at.getTime() : null, until };
  }

  /** last_used_at is written at most once a minute per key, off the request's critical path. */
  private touch(entry: CachedKey): void {
    const id = entry.keyId;
    if (!id || !entry.principal) return;
    const last = this.lastUsedWritten.get(id) ?? 0;
    if (this.clock.now() - last < LAST_USED_WRITE_MS) return;
    this.lastUsedWritten.set(id, this.clock.now());
    const table = entry.principal.kind === 'platform_key' ? 'platform_api_keys' : 'api_keys';
    this.db.system
      .query(
        `UPDATE ${table} SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [id],
      )
      .catch((err: Error) => this.logger.warn(`last_used_at not written: ${err.message}`));
  }
}

function withoutPlatform(scopes: Set<Scope>): Set<Scope> {
  scopes.delete('platform:admin');
  return scopes;
}
