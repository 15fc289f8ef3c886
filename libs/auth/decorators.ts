import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Principal, PRINCIPAL, RequestWithPrincipal } from './principal';
import type { Scope } from './scopes';

export { IS_PUBLIC, Public } from '../core';

export const REQUIRED_SCOPES = 'calmops:scopes';

/** The caller must hold every listed scope (403 otherwise). */
export const Scopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPES, scopes);

export const ANY_OF_SCOPES = 'calmops:any-of-scopes';

/**
 * The caller must hold at least one of the listed scopes; the handler then decides what each
 * scope allows (e.g. org admins vs platform admins on one control route).
 */
export const AnyOfScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator => SetMetadata(ANY_OF_SCOPES, scopes);

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>()[PRINCIPAL];
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});
