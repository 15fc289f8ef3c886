import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import type { Scope } from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { argumentsHash } from './approval-hash';
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

  isAgent(key: string): boolean {
    return key !== 'triage' && agentByKey(key) !== undefined;
  }

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
    const call = async (name: string, toolInput: Record<string, unknown>) => {
      const tool = toolByName(name)!;
      const missing = agent.tools.includes(name) ? missingScopes(requester.scopes, agent.scopes, tool.scopes) : [name];
      if (missing.length) {
        out.tool_calls.push({ tool: name, version: tool.version, input: toolInput, outcome: 'denied', duration_ms: 0 });
        out.denied.push({ tool: name, missing });
        throw new Error(`missing scope(s) ${missing.join(', ')} for tool ${name}`);
      }
      const started = process.hrtime.bigint();
      const output = await this.tools.run(name, toolInput);
      out.tool_calls.push({
        tool: name,
        version: tool.version,
        input: toolInput,
        outcome: 'ok',
        duration_ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
      return output;
    };
    let answer: AgentAnswer;
    try {
      answer = await RULES_AGENTS[agent.key as Exclude<AgentKey, 'triage'>](input, call);
    } catch (err) {
      if (!out.denied.length) throw err;
      out.answer = `Denied: ${(err as Error).message}.`;
      return out;
    }
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
      const [row] = (await this.tenant.manager.query(
        `INSERT INTO approval_requests (org_id, agent, tool, tool_version, arguments, arguments_hash, summary,
                                        requested_by_type, requested_by, expires_at, workflow_run_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(hours => $10), $11, clock_timestamp()) RETURNING id`,
        [
          this.tenant.orgId,
          agent.key,
          tool.name,
          tool.version,
          JSON.stringify(p.arguments),
          argumentsHash(tool.name, tool.version, p.arguments),
          p.summary,
          requester.type,
          requester.id,
          this.config.get('APPROVAL_TTL_HOURS'),
          workflowRunId,
        ],
      )) as { id: string }[];
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
