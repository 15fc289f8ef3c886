import type { Scope } from './scopes';

/** Who is calling, as established by the global guard. */
export interface Principal {
  kind: 'api_key' | 'jwt' | 'platform_key';
  /** Key id, or the token's `sub`. */
  subject: string;
  /** The caller's org; undefined only for platform keys. */
  orgId?: string;
  /** The org's plan (rate-limit tier). */
  plan?: string;
  scopes: ReadonlySet<Scope>;
  /**
   * Set when the credential acts for one call-center agent only: a token whose roles include
   * `agent` and no supervising role (operator, admin, owner). It is the token's `sub`, matched
   * against the call agent's `external_ref`.
   */
  callAgentRef?: string;
}

export const PRINCIPAL = 'calmopsPrincipal';

export type RequestWithPrincipal = { [PRINCIPAL]?: Principal };

/** How a principal appears in the audit log. */
export function auditActor(p: Principal): { actorType: 'user' | 'api_key' | 'platform_key'; actorId: string } {
  const actorType = p.kind === 'jwt' ? 'user' : p.kind;
  return { actorType, actorId: p.subject };
}
