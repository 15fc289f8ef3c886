import type { Scope } from '../../../libs/auth';

/** The scopes an agent's tool call may use: what the caller holds ∩ what the agent may ∩ what the tool needs. */
export function missingScopes(
  caller: ReadonlySet<Scope> | readonly Scope[],
  agentScopes: readonly Scope[],
  toolScopes: readonly Scope[],
): Scope[] {
  const held = new Set(caller);
  const agent = new Set(agentScopes);
  return toolScopes.filter((s) => !held.has(s) || !agent.has(s));
}
