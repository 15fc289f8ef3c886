import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../../libs/audit';
import { auditActor } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { AppConfig } from '../../libs/config';
import { TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { ProblemException } from '../../libs/http';
import { insertDraft } from './approval-drafts';
import type { AskDto, AskResultDto, ProposalDto } from './dto/agents.dto';
import { Escalation } from './entities/escalation.entity';
import type { EscalationReason } from './entities/escalation.entity';
import { agentByKey } from './registry/agent-registry';
import type { AgentDefinition } from './registry/agent-registry';
import { routeByRules } from './routing/intent-router';
import type { RouteDecision } from './routing/intent-router';
import { missingScopes } from './routing/permission-gate';
import { LOW_CONFIDENCE, RULES_AGENTS } from './rules-agents';
import type { AgentAnswer, Proposal } from './rules-agents';
import { ModelProvider } from './llm/model-provider';
import type { ModelUsage } from './llm/model-provider';
import { toolByName } from './tools/tool-catalog';
import { GateDenied, gatedCaller } from './tools/gated-caller';
import type { ToolCallRecord } from './tools/gated-caller';
import { ToolRunner } from './tools/tool-runner.service';

/**
 * `POST /api/agents/ask`: routes the question, runs the agent with its tools behind the
 * permission gate, stores the conversation with every tool call, turns drafted actions into
 * approval requests, and hands what it cannot answer to a human. Everything is audited.
 */
@Injectable()
export class AssistantService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly tools: ToolRunner,
    private readonly audit: AuditService,
    private readonly events: EventPublisher,
    private readonly config: AppConfig,
    private readonly model: ModelProvider,
  ) {}

  async ask(principal: Principal, dto: AskDto, requestId?: string): Promise<AskResultDto> {
    const id = randomUUID();
    const usage: ModelUsage = { inputTokens: 0, outputTokens: 0, costMicroUsd: 0 };
    const notes: string[] = [];
    let breakerOpen = false;
    let phrasedByModel = false;
    let decision: RouteDecision =
      dto.agent && dto.agent !== 'triage'
        ? { agent: dto.agent, rule: 'requested', confidence: 1 }
        : routeByRules({ message: dto.message, context: dto.context });
    if (this.model.enabled && decision.confidence < 1) {
      // The model may place what the rules could not (or placed by keywords only).
      const routed = await this.model.route(dto.message, { type: 'agent_conversation', id }, usage);
      if (routed.value) {
        decision = { agent: routed.value as RouteDecision['agent'], rule: 'model', confidence: 0.8 };
      } else if (routed.unavailable) {
        notes.push(`routed by the rules: ${routed.unavailable.message}`);
        breakerOpen ||= routed.unavailable.breakerOpen;
      }
    }
    const actor = auditActor(principal);
    const calls: ToolCallRecord[] = [];
    let answer: AgentAnswer;
    let agent: AgentDefinition | undefined;
    if (!decision.agent) {
      answer = {
        answer: 'No assistant agent handles this question; it was handed to a person (see the escalation).',
        evidence: [],
        proposals: [],
        confidence: 0,
      };
    } else {
      agent = agentByKey(decision.agent)!;
      const call = gatedCaller(this.tools, agent, principal.scopes, calls);
      try {
        answer = await RULES_AGENTS[decision.agent]({ message: dto.message, context: dto.context }, call);
        if (this.model.enabled) {
          const phrased = await this.model.phrase(
            agent.key,
            dto.message,
            answer.answer,
            answer.evidence,
            { type: 'agent_conversation', id },
            usage,
          );
          if (phrased.value) {
            answer = { ...answer, answer: phrased.value };
            phrasedByModel = true;
          } else if (phrased.unavailable) {
            notes.push(`answered by the rules provider: ${phrased.unavailable.message}`);
            breakerOpen ||= phrased.unavailable.breakerOpen;
          }
        }
      } catch (err) {
        if (err instanceof GateDenied) await this.recordDenial(id, principal, dto, decision, calls, err, requestId);
        throw err instanceof GateDenied
          ? new ProblemException(
              403,
              `The ${decision.agent} agent may not do this for you: missing scope ${err.missing.join(', ')}.`,
              {
                missing_scopes: err.missing,
                tool: err.tool,
              },
            )
          : err;
      }
    }
    if (notes.length) answer = { ...answer, answer: `${answer.answer}\n\n(${notes.join('; ')}.)` };
    const provider = phrasedByModel ? 'anthropic' : 'rules';
    const conversation = await this.saveConversation(id, principal, dto, decision, answer, calls, { provider, usage });
    await this.record(actor, 'agents.routed', conversation, requestId, { agent: decision.agent, rule: decision.rule });
    for (const c of calls) {
      await this.record(actor, 'agents.tool.called', conversation, requestId, {
        tool: c.tool,
        version: c.version,
        outcome: c.outcome,
        duration_ms: c.durationMs,
      });
    }
    const proposals: ProposalDto[] = [];
    for (const p of answer.proposals) {
      // The gate at draft time: a caller who could not approve the action gets no draft of it.
      const missing = missingScopes(principal.scopes, agent!.scopes, toolByName(p.tool)!.scopes);
      if (missing.length) {
        await this.record(actor, 'agents.tool.denied', conversation, requestId, {
          agent: agent!.key,
          tool: p.tool,
          missing_scopes: missing,
          stage: 'draft',
        });
        continue;
      }
      proposals.push(await this.propose(principal, agent!, conversation, p, requestId));
    }
    let escalationId: string | null = null;
    if (breakerOpen) escalationId = await this.escalate(conversation, 'provider_unavailable', notes.join('; '));
    else if (!decision.agent)
      escalationId = await this.escalate(conversation, 'no_agent', `no rule matched: "${dto.message.slice(0, 200)}"`);
    else if (answer.confidence < LOW_CONFIDENCE) {
      escalationId = await this.escalate(
        conversation,
        'low_confidence',
        `confidence ${answer.confidence}: ${answer.answer}`,
      );
    }
    return {
      conversation_id: conversation,
      agent: decision.agent ?? 'triage',
      routed_by: decision.rule,
      answer: answer.answer,
      evidence: answer.evidence,
      proposals,
      confidence: answer.confidence,
      provider,
      escalation_id: escalationId,
    };
  }

  private async saveConversation(
    id: string,
    principal: Principal,
    dto: AskDto,
    decision: RouteDecision,
    answer: AgentAnswer,
    calls: ToolCallRecord[],
    model: { provider: string; usage: ModelUsage } = {
      provider: 'rules',
      usage: { inputTokens: 0, outputTokens: 0, costMicroUsd: 0 },
    },
  ): Promise<string> {
    const m = this.tenant.manager;
    const actor = auditActor(principal);
    const [row] = (await m.query(
      `INSERT INTO agent_conversations (id, org_id, agent, routed_by, message, context, answer, evidence, confidence,
                                        requested_by_type, requested_by, provider, input_tokens, output_tokens, cost_micro_usd)
       VALUES ($11, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $14, $15) RETURNING id`,
      [
        this.tenant.orgId,
        decision.agent ?? 'triage',
        decision.rule,
        dto.message,
        JSON.stringify(dto.context ?? {}),
        answer.answer,
        JSON.stringify(answer.evidence),
        answer.confidence,
        actor.actorType,
        actor.actorId,
        id,
        model.provider,
        model.usage.inputTokens,
        model.usage.outputTokens,
        model.usage.costMicroUsd,
      ],
    )) as { id: string }[];
    for (const [seq, c] of calls.entries()) {
      await m.query(
        `INSERT INTO agent_tool_calls (org_id, conversation_id, seq, tool, tool_version, input, output, outcome, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          this.tenant.orgId,
          row.id,
          seq + 1,
          c.tool,
          c.version,
          JSON.stringify(c.input),
          c.output === null ? null : JSON.stringify(c.output),
          c.outcome,
          c.error,
          c.durationMs,
        ],
      );
    }
    return row.id;
  }

  /** A drafted action becomes a pending approval request bound to its frozen arguments. */
  private async propose(
    principal: Principal,
    agent: AgentDefinition,
    conversationId: string,
    p: Proposal,
    requestId?: string,
  ): Promise<ProposalDto> {
    const tool = toolByName(p.tool)!;
    const actor = auditActor(principal);
    const row = await insertDraft(this.tenant.manager, {
      orgId: this.tenant.orgId,
      agent: agent.key,
      tool,
      arguments: p.arguments,
      summary: p.summary,
      requestedByType: actor.actorType,
      requestedBy: actor.actorId,
      ttlHours: this.config.get('APPROVAL_TTL_HOURS'),
      conversationId,
    });
    await this.record(actor, 'agents.proposal.created', conversationId, requestId, {
      approval_id: row.id,
      tool: tool.name,
      tool_version: tool.version,
      arguments_hash: row.hash,
    });
    return {
      approval_id: row.id,
      tool: tool.name,
      tool_version: tool.version,
      summary: p.summary,
      arguments: p.arguments,
      status: 'pending',
      expires_at: row.expiresAt.toISOString(),
    };
  }

  /** An escalation row and its `agent.escalated` event, in the current transaction. */
  async escalate(
    conversationId: string | null,
    reason: EscalationReason,
    detail: string,
    approvalId?: string,
  ): Promise<string> {
    const row = await this.tenant.repo(Escalation).save({
      orgId: this.tenant.orgId,
      conversationId,
      approvalId: approvalId ?? null,
      reason,
      detail: detail.slice(0, 2000),
    });
    await this.events.publish('agent.escalated', {
      escalation_id: row.id,
      reason,
      conversation_id: conversationId,
      approval_id: approvalId ?? null,
    });
    await this.audit.record({
      actorType: 'system',
      actorId: 'agents',
      action: 'agents.escalated',
      targetType: 'escalation',
      targetId: row.id,
      data: { reason, conversation_id: conversationId, approval_id: approvalId ?? null },
    });
    return row.id;
  }

  /** The request fails with 403, so the denial is kept in a transaction of its own. */
  private async recordDenial(
    id: string,
    principal: Principal,
    dto: AskDto,
    decision: RouteDecision,
    calls: ToolCallRecord[],
    denied: GateDenied,
    requestId?: string,
  ): Promise<void> {
    await this.tenant.run(this.tenant.orgId, async () => {
      const answer: AgentAnswer = { answer: `Denied: ${denied.message}.`, evidence: [], proposals: [], confidence: 0 };
      await this.saveConversation(id, principal, dto, decision, answer, calls);
      await this.record(auditActor(principal), 'agents.tool.denied', id, requestId, {
        agent: decision.agent,
        tool: denied.tool,
        missing_scopes: denied.missing,
      });
      await this.escalate(id, 'policy_denied', denied.message);
    });
  }

  private async record(
    actor: ReturnType<typeof auditActor>,
    action: string,
    conversationId: string,
    requestId: string | undefined,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      ...actor,
      action,
      targetType: 'agent_conversation',
      targetId: conversationId,
      data,
      requestId,
    });
  }
}
