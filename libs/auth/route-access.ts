import type { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../core';
import { ANY_OF_SCOPES, REQUIRED_SCOPES } from './decorators';
import type { Scope } from './scopes';

/** Who may call a route, as its decorators declare it. */
export interface RouteAccess {
  public: boolean;
  /** Every one of these is needed. */
  scopes: Scope[];
  /** At least one of these is needed (the handler decides what each allows). */
  anyOf: Scope[];
  /** A platform key (no org) may call it: it names `platform:admin`. */
  platform: boolean;
}

/**
 * Reads `@Public`, `@Scopes` and `@AnyOfScopes` of a handler and its controller (the handler's
 * own win). The global guard enforces exactly this, and the OpenAPI document is generated
 * from it, so what the documentation says and what the guard does cannot drift apart.
 */
export function routeAccess(reflector: Reflector, handler: object, controller: object): RouteAccess {
  const targets = [handler, controller] as Parameters<Reflector['getAllAndOverride']>[1];
  const scopes = reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? [];
  const anyOf = reflector.getAllAndOverride<Scope[] | undefined>(ANY_OF_SCOPES, targets) ?? [];
  return {
    public: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
    scopes,
    anyOf,
    platform: scopes.includes('platform:admin') || anyOf.includes('platform:admin'),
  };
}
