import type { EntityManager } from 'typeorm';
import { argumentsHash } from './approval-hash';
import type { ToolDefinition } from './tools/tool-catalog';

/** A drafted action to store as a pending approval request. */
export interface Draft {
  orgId: string;
  agent: string;
  tool: ToolDefinition;
  arguments: Record<string, unknown>;
  summary: string;
  requestedByType: string;
  requestedBy: string;
  ttlHours: number;
  /** What drafted it: a conversation or a workflow run. */
  conversationId?: string;
  workflowRunId?: string;
}

/**
 * Stores a draft as a pending approval request bound to its tool version and the hash of its
 * frozen arguments, in the given transaction. `created_at` is the insert's own time, so the
 * drafts of one transaction keep the order in which they were drafted.
 */
export async function insertDraft(m: EntityManager, d: Draft): Promise<{ id: string; expiresAt: Date; hash: string }> {
  const hash = argumentsHash(d.tool.name, d.tool.version, d.arguments);
  const [row] = (await m.query(
    `INSERT INTO approval_requests (org_id, conversation_id, workflow_run_id, agent, tool, tool_version, arguments,
                                    arguments_hash, summary, requested_by_type, requested_by, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now() + make_interval(hours => $12), clock_timestamp())
     RETURNING id, expires_at`,
    [
      d.orgId,
      d.conversationId ?? null,
      d.workflowRunId ?? null,
      d.agent,
      d.tool.name,
      d.tool.version,
      JSON.stringify(d.arguments),
      hash,
      d.summary,
      d.requestedByType,
      d.requestedBy,
      d.ttlHours,
    ],
  )) as { id: string; expires_at: Date }[];
  return { id: row.id, expiresAt: row.expires_at, hash };
}
