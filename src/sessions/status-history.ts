import type { EntityManager } from 'typeorm';
import type { EventPublisher } from '../../libs/events';
import type { AgentStatus } from './entities/agent-session.entity';

export interface SessionRef {
  id: string;
  orgId: string;
  agentId: string;
  status: AgentStatus;
}

/**
 * The one way an agent's status changes: the session row, an append-only history row and the
 * `session.status_changed` event, all in the caller's transaction.
 */
export async function changeStatus(
  manager: EntityManager,
  events: EventPublisher,
  session: SessionRef,
  to: AgentStatus,
  actor: 'user' | 'system',
  reason: string | null,
  set: Record<string, unknown> = {},
): Promise<void> {
  const columns = Object.keys(set);
  const assignments = ['status = $2', ...columns.map((c, i) => `${c} = $${i + 3}`)];
  await manager.query(`UPDATE agent_sessions SET ${assignments.join(', ')} WHERE id = $1`, [
    session.id,
    to,
    ...columns.map((c) => set[c]),
  ]);
  await manager.query(
    `INSERT INTO agent_status_history (org_id, session_id, agent_id, from_status, to_status, actor, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [session.orgId, session.id, session.agentId, session.status, to, actor, reason],
  );
  await events.publishWith(manager, session.orgId, 'session.status_changed', {
    session_id: session.id,
    agent_id: session.agentId,
    from: session.status,
    to,
    actor,
    reason,
  });
}
