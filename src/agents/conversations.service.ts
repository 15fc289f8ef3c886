import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../libs/database';
import { newestFirstPage, ProblemException } from '../../libs/http';
import { toApprovalDto } from './approvals.service';
import type { ConversationDto, ConversationPageDto, ConversationSummaryDto, EscalationPageDto } from './dto/agents.dto';
import { ApprovalRequest } from './entities/approval-request.entity';
import { Conversation } from './entities/conversation.entity';
import { Escalation } from './entities/escalation.entity';
import { ToolCall } from './entities/tool-call.entity';

function summary(c: Conversation): ConversationSummaryDto {
  return {
    id: c.id,
    agent: c.agent,
    routed_by: c.routedBy,
    message: c.message,
    answer: c.answer,
    confidence: c.confidence,
    provider: c.provider,
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    cost_micro_usd: Number(c.costMicroUsd),
    requested_by: `${c.requestedByType}:${c.requestedBy}`,
    created_at: c.createdAt.toISOString(),
  };
}

/** Reading conversations (with every tool call and proposal) and escalations of the current org. */
@Injectable()
export class ConversationsService {
  constructor(private readonly tenant: TenantContext) {}

  async list(limit: number, cursor?: string): Promise<ConversationPageDto> {
    const qb = this.tenant
      .repo(Conversation)
      .createQueryBuilder('c')
      .where('c.org_id = :org', { org: this.tenant.orgId });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return { items: rows.map(summary), next_cursor };
  }

  async get(id: string): Promise<ConversationDto> {
    const c = await this.tenant.repo(Conversation).findOneBy({ id });
    if (!c) throw new ProblemException(404, 'No such conversation.');
    const calls = await this.tenant.repo(ToolCall).find({ where: { conversationId: id }, order: { seq: 'ASC' } });
    const proposals = await this.tenant
      .repo(ApprovalRequest)
      .find({ where: { conversationId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    return {
      ...summary(c),
      context: c.context,
      evidence: c.evidence,
      tool_calls: calls.map((t) => ({
        seq: t.seq,
        tool: t.tool,
        tool_version: t.toolVersion,
        input: t.input,
        output: t.output,
        outcome: t.outcome,
        error: t.error,
        duration_ms: t.durationMs,
      })),
      proposals: proposals.map(toApprovalDto),
    };
  }

  async escalations(limit: number, cursor?: string): Promise<EscalationPageDto> {
    const qb = this.tenant
      .repo(Escalation)
      .createQueryBuilder('e')
      .where('e.org_id = :org', { org: this.tenant.orgId });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return {
      items: rows.map((e) => ({
        id: e.id,
        reason: e.reason,
        detail: e.detail,
        conversation_id: e.conversationId,
        approval_id: e.approvalId,
        created_at: e.createdAt.toISOString(),
      })),
      next_cursor,
    };
  }
}
