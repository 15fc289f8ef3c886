import { Injectable } from '@nestjs/common';
import { AuditService } from '../../libs/audit';
import { auditActor } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { returningRows, TenantContext } from '../../libs/database';
import { newestFirstPage, ProblemException } from '../../libs/http';
import { QueueService } from '../../libs/queue';
import { argumentsHash } from './approval-hash';
import { AssistantService } from './assistant.service';
import type { ApprovalDto, ApprovalPageDto } from './dto/agents.dto';
import { ApprovalRequest } from './entities/approval-request.entity';
import type { ApprovalStatus } from './entities/approval-request.entity';
import { agentByKey } from './registry/agent-registry';
import { missingScopes } from './routing/permission-gate';
import { toolByName } from './tools/tool-catalog';

export const EXECUTE_APPROVAL_QUEUE = 'agents.approval.execute';

export interface ExecuteApprovalJob {
  org_id: string;
  approval_id: string;
}

export function toApprovalDto(a: ApprovalRequest): ApprovalDto {
  return {
    id: a.id,
    conversation_id: a.conversationId,
    agent: a.agent,
    tool: a.tool,
    tool_version: a.toolVersion,
    arguments: a.arguments,
    arguments_hash: a.argumentsHash,
    summary: a.summary,
    status: a.status,
    requested_by: `${a.requestedByType}:${a.requestedBy}`,
    decided_by: a.decidedBy ? `${a.decidedByType}:${a.decidedBy}` : null,
    decision_reason: a.decisionReason,
    decided_at: a.decidedAt?.toISOString() ?? null,
    expires_at: a.expiresAt.toISOString(),
    executed_at: a.executedAt?.toISOString() ?? null,
    result: a.result,
    error: a.error,
    created_at: a.createdAt.toISOString(),
  };
}

/** Why a request cannot run as it stands, or null: its binding to tool, version and arguments. */
export function bindingProblem(a: ApprovalRequest, now = new Date()): string | null {
  const tool = toolByName(a.tool);
  if (!tool) return `the tool ${a.tool} no longer exists`;
  if (tool.version !== a.toolVersion) return `the tool ${a.tool} changed (version ${a.toolVersion} → ${tool.version})`;
  if (argumentsHash(a.tool, a.toolVersion, a.arguments) !== a.argumentsHash) {
    return 'the arguments do not match the hash they were approved under';
  }
  if (a.expiresAt.getTime() <= now.getTime()) return 'the request expired';
  return null;
}

/**
 * Human decisions on drafted actions. The approver is not the requester and holds the tool's
 * scopes (with the agent's); a request bound to other arguments, another tool version, or past
 * its time cannot be approved. An approval is executed by the worker, once.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
    private readonly queue: QueueService,
    private readonly assistant: AssistantService,
  ) {}

  async list(limit: number, cursor?: string, status?: ApprovalStatus): Promise<ApprovalPageDto> {
    const qb = this.tenant
      .repo(ApprovalRequest)
      .createQueryBuilder('a')
      .where('a.org_id = :org', { org: this.tenant.orgId });
    if (status) qb.andWhere('a.status = :status', { status });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return { items: rows.map(toApprovalDto), next_cursor };
  }

  async get(id: string): Promise<ApprovalDto> {
    return toApprovalDto(await this.find(id));
  }

  async approve(
    principal: Principal,
    id: string,
    reason: string | undefined,
    requestId?: string,
  ): Promise<ApprovalDto> {
    const a = await this.pending(principal, id, requestId);
    const agent = agentByKey(a.agent);
    const tool = toolByName(a.tool);
    const missing = agent && tool ? missingScopes(principal.scopes, agent.scopes, tool.scopes) : ['(unknown tool)'];
    if (missing.length) {
      await this.deny(principal, a, `approver lacks ${missing.join(', ')}`, requestId);
      throw new ProblemException(403, `Approving this needs scope ${missing.join(', ')}.`, { missing_scopes: missing });
    }
    const problem = bindingProblem(a);
    if (problem) {
      const status: ApprovalStatus = problem === 'the request expired' ? 'expired' : 'cancelled';
      await this.tenant.run(this.tenant.orgId, () => this.close(a, status, problem));
      throw new ProblemException(409, `This request cannot be approved: ${problem}.`, { status_now: status });
    }
    const actor = auditActor(principal);
    await this.decide(id, 'approved', actor, reason ?? null);
    await this.audit.record({
      ...actor,
      action: 'agents.approval.approved',
      targetType: 'approval_request',
      targetId: id,
      data: { tool: a.tool, tool_version: a.toolVersion, arguments_hash: a.argumentsHash, reason: reason ?? null },
      requestId,
    });
    const orgId = this.tenant.orgId;
    this.tenant.onCommit(() => {
      void this.queue
        .send(EXECUTE_APPROVAL_QUEUE, { org_id: orgId, approval_id: id } satisfies ExecuteApprovalJob, {
          singletonKey: id,
        })
        .catch(() => undefined); // the redrive cron sends it again
    });
    return toApprovalDto(await this.find(id));
  }

  async reject(principal: Principal, id: string, reason: string, requestId?: string): Promise<ApprovalDto> {
    const a = await this.pending(principal, id, requestId);
    const actor = auditActor(principal);
    await this.decide(id, 'rejected', actor, reason);
    await this.audit.record({
      ...actor,
      action: 'agents.approval.rejected',
      targetType: 'approval_request',
      targetId: a.id,
      data: { tool: a.tool, reason },
      requestId,
    });
    return toApprovalDto(await this.find(id));
  }

  /** Ends a request that can no longer run (expired, or its binding broke), with an escalation. */
  async close(a: ApprovalRequest, status: 'expired' | 'cancelled', why: string): Promise<void> {
    const moved = await returningRows(
      this.tenant.manager,
      `UPDATE approval_requests SET status = $2, error = $3, updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING id`,
      [a.id, status, why],
    );
    if (!moved.length) return;
    await this.audit.record({
      actorType: 'system',
      actorId: 'agents',
      action: `agents.approval.${status}`,
      targetType: 'approval_request',
      targetId: a.id,
      data: { tool: a.tool, reason: why },
    });
    if (status === 'expired')
      await this.assistant.escalate(a.conversationId, 'approval_expired', `${a.summary}: ${why}`, a.id);
  }

  /** pending → approved | rejected, atomically: a concurrent decision makes this one a 409. */
  private async decide(
    id: string,
    status: 'approved' | 'rejected',
    actor: ReturnType<typeof auditActor>,
    reason: string | null,
  ): Promise<void> {
    const moved = await returningRows(
      this.tenant.manager,
      `UPDATE approval_requests SET status = $2, decided_by_type = $3, decided_by = $4, decision_reason = $5,
         decided_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, status, actor.actorType, actor.actorId, reason],
    );
    if (!moved.length) throw new ProblemException(409, 'This request was decided meanwhile.');
  }

  /**
   * The request, still pending, decided by someone other than its requester. Read without a
   * lock: a refusal is written in a transaction of its own (the request's rolls back), and the
   * decision itself is one conditional UPDATE.
   */
  private async pending(principal: Principal, id: string, requestId?: string): Promise<ApprovalRequest> {
    const a = await this.find(id);
    if (a.status !== 'pending') {
      throw new ProblemException(409, `This request is ${a.status}; only a pending request can be decided.`, {
        status_now: a.status,
      });
    }
    const actor = auditActor(principal);
    if (actor.actorType === a.requestedByType && actor.actorId === a.requestedBy) {
      await this.deny(principal, a, 'the approver is the requester', requestId);
      throw new ProblemException(403, 'The requester of an action cannot approve or reject it; another person must.');
    }
    return a;
  }

  /** The request fails, so the denial is written in a transaction of its own. */
  private async deny(principal: Principal, a: ApprovalRequest, why: string, requestId?: string): Promise<void> {
    await this.tenant.run(this.tenant.orgId, () =>
      this.audit.record({
        ...auditActor(principal),
        action: 'agents.approval.denied',
        targetType: 'approval_request',
        targetId: a.id,
        data: { tool: a.tool, reason: why },
        requestId,
      }),
    );
  }

  private async find(id: string): Promise<ApprovalRequest> {
    const a = await this.tenant.repo(ApprovalRequest).findOneBy({ id });
    if (!a) throw new ProblemException(404, 'No such approval request.');
    return a;
  }
}
