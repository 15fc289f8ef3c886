import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CredentialResolver } from './credential-resolver.service';
import { PRINCIPAL, RequestWithPrincipal } from './principal';
import { routeAccess } from './route-access';

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
    const access = routeAccess(this.reflector, context.getHandler(), context.getClass());
    if (access.public) return true;
    const principal = await this.credentials.resolve(context);
    if (!principal) {
      throw new UnauthorizedException('Authenticate with "Authorization: Bearer <jwt>" or "X-API-Key: <key>".');
    }
    const { scopes: required, anyOf } = access;
    if (!required.length && !anyOf.length) throw new ForbiddenException('This route declares no scope and is closed.');
    const missing = required.filter((s) => !principal.scopes.has(s));
    if (missing.length) throw new ForbiddenException(`Missing scope: ${missing.join(', ')}.`);
    if (anyOf.length && !anyOf.some((s) => principal.scopes.has(s))) {
      throw new ForbiddenException(`Needs one of: ${anyOf.join(', ')}.`);
    }
    if (!principal.orgId && !access.platform) {
      throw new ForbiddenException('This route acts inside an org; use an org API key or token.');
    }
    const http = context.switchToHttp();
    http.getRequest<RequestWithPrincipal>()[PRINCIPAL] = principal;
    // What an authenticated caller reads (new keys and secrets among it) is never cached.
    http.getResponse<{ setHeader: (name: string, value: string) => void }>().setHeader('Cache-Control', 'no-store');
    return true;
  }
}
