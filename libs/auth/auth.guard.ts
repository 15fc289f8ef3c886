import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CredentialResolver } from './credential-resolver.service';
import { ANY_OF_SCOPES, REQUIRED_SCOPES } from './decorators';
import { PRINCIPAL, RequestWithPrincipal } from './principal';
import { IS_PUBLIC } from '../core';
import type { Scope } from './scopes';

/**
 * The one global guard: every route needs credentials unless it is `@Public()`, and then every
 * scope named by `@Scopes(...)`. A route with neither is refused (and fails the route
 * inventory test), so forgetting to protect a route cannot open it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const principal = await this.credentials.resolve(context);
    if (!principal) {
      throw new UnauthorizedException('Authenticate with "Authorization: Bearer <jwt>" or "X-API-Key: <key>".');
    }
    const anyOf = this.reflector.getAllAndOverride<Scope[]>(ANY_OF_SCOPES, targets);
    const required = this.reflector.getAllAndOverride<Scope[]>(REQUIRED_SCOPES, targets) ?? [];
    if (!required.length && !anyOf?.length) throw new ForbiddenException('This route declares no scope and is closed.');
    const missing = required.filter((s) => !principal.scopes.has(s));
    if (missing.length) throw new ForbiddenException(`Missing scope: ${missing.join(', ')}.`);
    if (anyOf?.length && !anyOf.some((s) => principal.scopes.has(s))) {
      throw new ForbiddenException(`Needs one of: ${anyOf.join(', ')}.`);
    }
    const allowsPlatform = required.includes('platform:admin') || (anyOf ?? []).includes('platform:admin');
    if (!principal.orgId && !allowsPlatform) {
      throw new ForbiddenException('This route acts inside an org; use an org API key or token.');
    }
    context.switchToHttp().getRequest<RequestWithPrincipal>()[PRINCIPAL] = principal;
    return true;
  }
}
