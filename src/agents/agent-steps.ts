import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import type { Scope } from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { insertDraft } from './approval-drafts';
import { toApprovalDto } from './approvals.service';
import type { ApprovalDto } from './dto/agents.dto';
import { ApprovalRequest } from './entities/approval-request.entity';
import { agentByKey } from './registry/agent-registry';
import type { AgentKey } from './registry/agent-registry';
import { missingScopes } from './routing/permission-gate';
import { RULES_AGENTS } from './rules-agents';
import type { AgentAnswer } from './rules-agents';
import type { AskInput } from './routing/intent-router';
import { ModelProvider } from './llm/model-provider';
import type { ModelUsage } from './llm/model-provider';
import { toolByName } from './tools/tool-catalog';
import { GateDenied, gatedCaller } from './tools/gated-caller';
import type { ToolCallRecord } from './tools/gated-caller';
import { ToolRunner } from './tools/tool-runner.service';

/** One agent's turn inside a workflow: its answer, the tool calls it made, the approvals it drafted. */
export interface AgentStepResult {
  answer: string;
  evidence: unknown[];
  confidence: number;
  tool_calls: { tool: string; version: number; input: unknown; outcome: string; duration_ms: number; error?: string }[];
  /** Approval requests drafted by this step (pending; the workflow waits for them). */
  approval_ids: string[];
  /** Tools the gate refused, with the scopes that were missing. */
  denied: { tool: string; missing: string[] }[];
  /** Who wrote the answer, and the model's token use for it. */
  provider: 'rules' | 'anthropic';
  input_tokens: number;
  output_tokens: number;
}

/** A step's tool calls as its row stores them. */
function stepCalls(calls: ToolCallRecord[]): AgentStepResult['tool_calls'] {
  return calls.map((c) => ({
    tool: c.tool,
    version: c.version,
    input: c.input,
    outcome: c.outcome,
    duration_ms: c.durationMs,
    ...(c.error ? { error: c.error } : {}),
  }));
}

/**
 * What other features (workflows) may ask of the assistant agents: run one agent on an input in
 * the current tenant transaction, with the scopes of whoever started the work, through the same
 * permission gate (requester ∩ agent ∩ tool) and the same approvals as a conversation.
 */
@Injectable()
export class AgentSteps {
  constructor(
    private readonly tenant: TenantContext,
    private readonly tools: ToolRunner,
    private readonly config: AppConfig,
    private readonly model: ModelProvider,
  ) {}

  async run(
    agentKey: string,
    input: AskInput,
    requester: { type: string; id: string; scopes: readonly Scope[] },
    workflowRunId: string,
  ): Promise<AgentStepResult> {
    const agent = agentByKey(agentKey);
    if (!agent || agent.key === 'triage') throw new Error(`no such assistant agent: ${agentKey}`);
    const out: AgentStepResult = {
      answer: '',
      evidence: [],
      confidence: 0,
      tool_calls: [],
      approval_ids: [],
      denied: [],
      provider: 'rules',
      input_tokens: 0,
      output_tokens: 0,
    };
    const calls: ToolCallRecord[] = [];
    const call = gatedCaller(this.tools, agent, requester.scopes, calls);
    let answer: AgentAnswer;
    try {
      answer = await RULES_AGENTS[agent.key as Exclude<AgentKey, 'triage'>](input, call);
    } catch (err) {
      if (!(err instanceof GateDenied)) throw err;
      out.tool_calls = stepCalls(calls);
      out.denied.push({ tool: err.tool, missing: err.missing });
      out.answer = `Denied: ${err.message}.`;
      return out;
    }
    out.tool_calls = stepCalls(calls);
    out.answer = answer.answer;
    out.evidence = answer.evidence;
    out.confidence = answer.confidence;
    if (this.model.enabled) {
      // The model words the answer (behind its retry policy and breaker); the rules answer stands otherwise.
      const usage: ModelUsage = { inputTokens: 0, outputTokens: 0, costMicroUsd: 0 };
      const target = { type: 'workflow_run' as const, id: workflowRunId };
      const phrased = await this.model.phrase(agent.key, input.message, answer.answer, answer.evidence, target, usage);
      if (phrased.value) {
        out.answer = phrased.value;
        out.provider = 'anthropic';
      } else if (phrased.unavailable) {
        out.answer = `${answer.answer}\n\n(answered by the rules provider: ${phrased.unavailable.message}.)`;
      }
      out.input_tokens = usage.inputTokens;
      out.output_tokens = usage.outputTokens;
    }
    for (const p of answer.proposals) {
      const tool = toolByName(p.tool)!;
      if (missingScopes(requester.scopes, agent.scopes, tool.scopes).length) continue;
      const row = await insertDraft(this.tenant.manager, {
        orgId: this.tenant.orgId,
        agent: agent.key,
        tool,
        arguments: p.arguments,
        summary: p.summary,
        requestedByType: requester.type,
        requestedBy: requester.id,
        ttlHours: this.config.get('APPROVAL_TTL_HOURS'),
        workflowRunId,
      });
      out.approval_ids.push(row.id);
    }
    return out;
  }

  /** The approval requests a workflow's steps drafted, oldest first. */
  async approvalsOf(workflowRunId: string): Promise<ApprovalDto[]> {
    const rows = await this.tenant
      .repo(ApprovalRequest)
      .find({ where: { workflowRunId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toApprovalDto);
  }

  /** A cancelled workflow's undecided drafts are cancelled with it. */
  async cancelPendingOf(workflowRunId: string, why: string): Promise<void> {
    await this.tenant.manager.query(
      `UPDATE approval_requests SET status = 'cancelled', error = $2, updated_at = now()
       WHERE workflow_run_id = $1 AND status = 'pending'`,
      [workflowRunId, why],
    );
  }
}
