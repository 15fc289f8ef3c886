import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Principal, PRINCIPAL, RequestWithPrincipal } from './principal';
import type { Scope } from './scopes';

export { IS_PUBLIC, Public } from './public.decorator';

export const REQUIRED_SCOPES = 'calmops:scopes';

/** The caller must hold every listed scope (403 otherwise). */
export const Scopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPES, scopes);

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>()[PRINCIPAL];
  if (!principal) throw new Error('CurrentPrincipal used on a route without authentication');
  return principal;
});
