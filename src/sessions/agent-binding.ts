import type { EntityManager } from 'typeorm';
import type { Principal } from '../../libs/auth';
import { ProblemException } from '../../libs/http';

/**
 * An agent-role credential acts only for its own call agent (the one whose external_ref is the
 * token's subject); supervisors and API keys act for any agent of their org.
 */
export function isBound(principal: Principal | undefined): principal is Principal & { callAgentRef: string } {
  return principal?.callAgentRef !== undefined;
}

export function notYourAgent(): ProblemException {
  return new ProblemException(403, 'An agent credential acts only for its own call agent.', {
    slug: 'not-your-call-agent',
  });
}

/** Refuses (403) when `principal` is bound to a call agent other than `agentId`. */
export async function assertActsFor(
  m: EntityManager,
  principal: Principal | undefined,
  agentId: string | null,
): Promise<void> {
  if (!isBound(principal)) return;
  if (!agentId) throw notYourAgent();
  const [agent] = (await m.query(`SELECT external_ref FROM call_agents WHERE id = $1`, [agentId])) as {
    external_ref: string | null;
  }[];
  if (agent?.external_ref !== principal.callAgentRef) throw notYourAgent();
}

/** Refuses (403) work that is not an agent's own: creating agents, announcing inbound calls. */
export function assertSupervising(principal: Principal | undefined): void {
  if (isBound(principal)) {
    throw new ProblemException(403, 'An agent credential cannot do this; it acts only for its own call agent.', {
      slug: 'not-your-call-agent',
    });
  }
}
