import Anthropic from '@anthropic-ai/sdk';
import { CircuitBreaker } from '../../../libs/resilience';
import { classifyModelError, MODEL_RETRY, retryWaitMs } from './model-retry';
import type { BackoffPolicy } from '../../../libs/resilience';

export interface ModelReply {
  text: string;
  inputTokens: number;
  outputTokens: number;
  /** Calls made (1 + retries) and the waits between them. */
  attempts: number;
  waitsMs: number[];
}

export class ModelUnavailableError extends Error {
  constructor(
    readonly reason: string,
    readonly attempts: number,
    readonly waitsMs: number[],
    readonly breakerOpen: boolean,
  ) {
    super(`the model is unavailable: ${reason}`);
  }
}

export interface AnthropicModelOptions {
  apiKey: string;
  model: string;
  baseURL?: string;
  timeoutMs: number;
  retryAfterCapMs: number;
  policy?: BackoffPolicy & { retries: number };
  breaker: CircuitBreaker;
  /** Injected so tests run the policy without waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/**
 * One model behind our retry policy and breaker: the SDK's own retries are off (maxRetries 0),
 * so every wait is ours and counted. An open breaker refuses at once (no request leaves).
 */
export class AnthropicModel {
  private readonly client: Anthropic;

  constructor(private readonly o: AnthropicModelOptions) {
    this.client = new Anthropic({ apiKey: o.apiKey, baseURL: o.baseURL, maxRetries: 0, timeout: o.timeoutMs });
  }

  get model(): string {
    return this.o.model;
  }

  get breakerState(): string {
    return this.o.breaker.state;
  }

  async complete(system: string, user: string, maxTokens = 1024): Promise<ModelReply> {
    const policy = this.o.policy ?? MODEL_RETRY;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const now = this.o.now ?? Date.now;
    const waitsMs: number[] = [];
    for (let attempt = 1; ; attempt++) {
      if (!this.o.breaker.tryAcquire()) {
        throw new ModelUnavailableError('circuit breaker open', attempt - 1, waitsMs, true);
      }
      try {
        const res = await this.client.messages.create({
          model: this.o.model,
          max_tokens: maxTokens,
          system,
          messages: [{ role: 'user', content: user }],
        });
        this.o.breaker.recordSuccess();
        const text = res.content
          .map((b) => (b.type === 'text' ? b.text : ''))
          .join('')
          .trim();
        return {
          text,
          inputTokens: res.usage?.input_tokens ?? 0,
          outputTokens: res.usage?.output_tokens ?? 0,
          attempts: attempt,
          waitsMs,
        };
      } catch (err) {
        const failure = classifyModelError(err, now());
        // A refused request (4xx) says nothing about the model's health; the rest count.
        if (failure.retry) this.o.breaker.recordFailure();
        else this.o.breaker.recordSuccess();
        if (!failure.retry || attempt > policy.retries) {
          const why = failure.retry ? `${failure.reason} after ${attempt} attempts` : failure.reason;
          throw new ModelUnavailableError(why, attempt, waitsMs, this.o.breaker.state === 'open');
        }
        const wait = retryWaitMs(attempt, failure, this.o.retryAfterCapMs, policy, this.o.random);
        waitsMs.push(wait);
        await sleep(wait);
      }
    }
  }
}
