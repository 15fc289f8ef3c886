import { Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import { AuditService } from '../../../libs/audit';
import { AppConfig } from '../../../libs/config';
import { CircuitBreaker } from '../../../libs/resilience';
import { AGENTS } from '../registry/agent-registry';
import { AnthropicModel, ModelUnavailableError } from './anthropic-model';
import type { ModelReply } from './anthropic-model';
import { MODEL_RETRY } from './model-retry';

/** Token use and cost of the model calls of one conversation. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

/** What a model call is for, in the audit log: a conversation or a workflow run. */
export interface ModelTarget {
  type: 'agent_conversation' | 'workflow_run';
  id: string;
}

/** What the model added to an answer, or why it could not. */
export interface ModelOutcome<T> {
  value: T | null;
  unavailable: ModelUnavailableError | null;
}

const ROUTABLE = AGENTS.filter((a) => a.key !== 'triage');
const EVIDENCE_CHARS = 20_000;

/**
 * The optional model (LLM_PROVIDER=anthropic): it may route a question the rules could not
 * place, and it writes the answer from the evidence the rules agent gathered in this org only.
 * It never proposes or executes anything: proposals come from the rules and go through the gate
 * and approvals. Every call is audited with its attempts, waits and tokens; when the model is
 * unavailable (retries spent, a fatal error, an open breaker) the rules answer stands.
 */
@Injectable()
export class ModelProvider {
  private readonly model?: AnthropicModel;

  constructor(
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {
    if (config.get('LLM_PROVIDER') !== 'anthropic') return;
    const base = config.get('LLM_RETRY_BASE_MS');
    this.model = new AnthropicModel({
      apiKey: config.get('ANTHROPIC_API_KEY')!,
      model: config.get('ANTHROPIC_MODEL'),
      baseURL: config.get('ANTHROPIC_BASE_URL'),
      timeoutMs: config.get('LLM_TIMEOUT_MS'),
      retryAfterCapMs: config.get('LLM_RETRY_AFTER_CAP_SECONDS') * 1000,
      policy: { ...MODEL_RETRY, baseMs: base, capMs: base * 8 },
      breaker: new CircuitBreaker({
        failureThreshold: config.get('LLM_BREAKER_FAILURES'),
        cooldownMs: config.get('LLM_BREAKER_COOLDOWN_SECONDS') * 1000,
      }),
    });
  }

  get enabled(): boolean {
    return this.model !== undefined;
  }

  /** The agent the model picks for a question (null: none fits). */
  async route(message: string, target: ModelTarget, usage: ModelUsage): Promise<ModelOutcome<string>> {
    const keys = ROUTABLE.map((a) => a.key);
    const system = [
      'You route a customer question to one assistant agent of an operations backend.',
      'Reply with exactly one word: one of the keys below, or "none" when no agent fits.',
      ...ROUTABLE.map((a) => `- ${a.key}: ${a.description}`),
    ].join('\n');
    const out = await this.call('route', system, message, target, usage, 16);
    if (!out.value) return { value: null, unavailable: out.unavailable };
    const word = /[a-z]+/.exec(out.value.text.toLowerCase())?.[0] ?? 'none';
    return { value: keys.includes(word as (typeof keys)[number]) ? word : null, unavailable: null };
  }

  /** The answer in the model's words, from the rules agent's draft and evidence. */
  async phrase(
    agent: string,
    question: string,
    draft: string,
    evidence: unknown[],
    target: ModelTarget,
    usage: ModelUsage,
  ): Promise<ModelOutcome<string>> {
    const system = [
      `You are the "${agent}" assistant agent of an operations backend, answering one customer org.`,
      'Answer the question only from the draft answer and the evidence given; never invent values.',
      'Keep ids, ticket numbers, amounts and thresholds exactly as given. You cannot take actions:',
      'actions are drafted separately and need a person’s approval. Be brief and concrete.',
    ].join(' ');
    const user = JSON.stringify({ question, draft_answer: draft, evidence }).slice(0, EVIDENCE_CHARS);
    const out = await this.call('answer', system, user, target, usage, 1024);
    return { value: out.value?.text || null, unavailable: out.unavailable };
  }

  private async call(
    purpose: string,
    system: string,
    user: string,
    target: ModelTarget,
    usage: ModelUsage,
    maxTokens: number,
  ): Promise<ModelOutcome<ModelReply>> {
    const model = this.model!;
    try {
      const reply = await model.complete(system, user, maxTokens);
      usage.inputTokens += reply.inputTokens;
      usage.outputTokens += reply.outputTokens;
      usage.costMicroUsd = this.cost(usage);
      await this.record(purpose, target, {
        outcome: 'ok',
        attempts: reply.attempts,
        waits_ms: reply.waitsMs,
        input_tokens: reply.inputTokens,
        output_tokens: reply.outputTokens,
      });
      return { value: reply, unavailable: null };
    } catch (err) {
      if (!(err instanceof ModelUnavailableError)) throw err;
      await this.record(purpose, target, {
        outcome: 'unavailable',
        reason: err.reason,
        attempts: err.attempts,
        waits_ms: err.waitsMs,
        breaker_open: err.breakerOpen,
      });
      return { value: null, unavailable: err };
    }
  }

  /** USD per million tokens is micro-USD per token: exact with decimals, rounded half up once. */
  private cost(u: ModelUsage): number {
    return new Decimal(u.inputTokens)
      .times(this.config.get('LLM_PRICE_INPUT_USD_PER_MTOK'))
      .plus(new Decimal(u.outputTokens).times(this.config.get('LLM_PRICE_OUTPUT_USD_PER_MTOK')))
      .toDecimalPlaces(0, Decimal.ROUND_HALF_UP)
      .toNumber();
  }

  private async record(purpose: string, target: ModelTarget, data: Record<string, unknown>): Promise<void> {
    await this.audit.record({
      actorType: 'system',
      actorId: 'agents',
      action: 'agents.model.called',
      targetType: target.type,
      targetId: target.id,
      data: { purpose, model: this.model!.model, ...data },
    });
  }
}
