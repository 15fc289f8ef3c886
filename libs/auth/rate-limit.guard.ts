import { ExecutionContext, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { ThrottlerRequest } from '@nestjs/throttler/dist/throttler.guard.interface';
import type { Request, Response } from 'express';
import { AppConfig } from '../config';
import { CredentialResolver } from './credential-resolver.service';
import type { Principal } from './principal';

interface Policy {
  tracker: string;
  limit: number;
  ttlMs: number;
}

/**
 * @nestjs/throttler with our policy: one bucket per org sized by its plan (per hour), one per IP
 * for requests without valid credentials (per 15 minutes), counted in PostgreSQL so all
 * replicas share it. It runs before the auth guard so that failed logins are counted too.
 * Sends RateLimit-Limit / -Remaining / -Reset on every response and Retry-After on 429.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  // Property injection: ThrottlerGuard's constructor belongs to the library.
  @Inject(CredentialResolver) private readonly credentials!: CredentialResolver;
  @Inject(AppConfig) private readonly config!: AppConfig;

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, throttler } = props;
    const { req, res } = this.getRequestResponse(context) as { req: Request; res: Response };
    const policy = this.policy(await this.peek(context), req);
    const key = `${throttler.name ?? 'default'}:${policy.tracker}`;
    const record = await this.storageService.increment(key, policy.ttlMs, policy.limit, 0, throttler.name ?? 'default');
    res.setHeader('RateLimit-Limit', policy.limit);
    res.setHeader('RateLimit-Remaining', Math.max(0, policy.limit - record.totalHits));
    res.setHeader('RateLimit-Reset', record.timeToExpire);
    if (record.isBlocked) {
      res.setHeader('Retry-After', record.timeToExpire);
      throw new HttpException(
        `Rate limit of ${policy.limit} requests exceeded; retry in ${record.timeToExpire} s.`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    return true;
  }

  private async peek(context: ExecutionContext): Promise<Principal | null> {
    try {
      return await this.credentials.resolve(context);
    } catch {
      return null;
    }
  }

  private policy(principal: Principal | null, req: Request): Policy {
    const hour = 3_600_000;
    if (principal?.orgId) {
      const perPlan: Record<string, number> = {
        free: this.config.get('RATE_LIMIT_FREE_PER_HOUR'),
        pro: this.config.get('RATE_LIMIT_PRO_PER_HOUR'),
        enterprise: this.config.get('RATE_LIMIT_ENTERPRISE_PER_HOUR'),
      };
      return {
        tracker: `org:${principal.orgId}`,
        limit: perPlan[principal.plan ?? 'free'] ?? perPlan.free,
        ttlMs: hour,
      };
    }
    if (principal)
      return {
        tracker: `key:${principal.subject}`,
        limit: this.config.get('RATE_LIMIT_ENTERPRISE_PER_HOUR'),
        ttlMs: hour,
      };
    return { tracker: `ip:${req.ip}`, limit: this.config.get('RATE_LIMIT_IP_PER_15_MIN'), ttlMs: 15 * 60_000 };
  }
}
