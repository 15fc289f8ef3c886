import { AnthropicModel, ModelUnavailableError } from '../../src/agents/llm/anthropic-model';
import { CircuitBreaker } from '../../libs/resilience';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
} from '../support';
import { FakeAnthropic, Scripted } from './fixtures/fake-anthropic';

const OK: Scripted = { text: 'fine', input_tokens: 10, output_tokens: 5 };
const SPEND_LIMIT: Scripted = {
  status: 429,
  error: {
    type: 'rate_limit_error',
    message: 'spend limit reached',
    details: { error_code: 'enforced_spend_limit_reached' },
  },
};

/** The model against the fake server, with an injected clock: sleeps are recorded, not waited. */
function modelFor(fake: FakeAnthropic, breaker = new CircuitBreaker({ failureThreshold: 100, cooldownMs: 60_000 })) {
  const slept: number[] = [];
  const model = new AnthropicModel({
    apiKey: 'test-key-not-secret',
    model: 'claude-test',
    baseURL: fake.url,
    timeoutMs: 2000,
    retryAfterCapMs: 60_000,
    breaker,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0.5,
  });
  return { model, slept };
}

describe('the anthropic provider: our retry policy and breaker', () => {
  let fake: FakeAnthropic;
  beforeEach(async () => {
    fake = await new FakeAnthropic([OK]).start();
  });
  afterEach(async () => {
    await fake.stop();
  });

  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelUnavailableError);
    return err as ModelUnavailableError;
  };

  it('honours retry-after on a 429, and retry-after-ms before it', async () => {
    fake.script = [
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after-ms': '1500', 'retry-after': '9' } },
      OK,
    ];
    const { model, slept } = modelFor(fake);
    const reply = await model.complete('system', 'hello');
    expect(reply).toMatchObject({ text: 'fine', attempts: 3, inputTokens: 10, outputTokens: 5 });
    expect(slept).toEqual([2000, 1500]);
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[0].path).toBe('/v1/messages');
    expect(fake.requests[0].credential).toContain('test-key-not-secret');
  });

  it('caps a long retry-after', async () => {
    fake.script = [{ status: 529, headers: { 'retry-after': '600' } }, OK];
    const { model, slept } = modelFor(fake);
    await model.complete('s', 'u');
    expect(slept).toEqual([60_000]);
  });

  it('retries 529, 5xx and a dropped connection on 1-2-4-8 s backoff, at most 4 times', async () => {
    fake.script = [{ status: 529 }, { status: 500 }, 'drop', { status: 503 }, OK];
    const { model, slept } = modelFor(fake);
    expect((await model.complete('s', 'u')).attempts).toBe(5);
    expect(slept).toEqual([1000, 2000, 4000, 8000]);

    fake.script = [{ status: 500 }];
    fake.requests.length = 0;
    const second = modelFor(fake);
    const err = await failure(second.model.complete('s', 'u'));
    expect(err.attempts).toBe(5);
    expect(err.reason).toBe('500 server error after 5 attempts');
    expect(second.slept).toEqual([1000, 2000, 4000, 8000]);
    expect(fake.requests).toHaveLength(5);
  });

  it('does not retry a spend-limit 429, a 400, a 401 or a 403', async () => {
    for (const step of [
      SPEND_LIMIT,
      { status: 400, error: { type: 'invalid_request_error', message: 'bad' } },
      { status: 401, error: { type: 'authentication_error', message: 'no' } },
      { status: 403, error: { type: 'permission_error', message: 'no' } },
    ] as Scripted[]) {
      fake.script = [step, OK];
      fake.requests.length = 0;
      const { model, slept } = modelFor(fake);
      const err = await failure(model.complete('s', 'u'));
      expect(err.attempts).toBe(1);
      expect(slept).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    }
    fake.script = [SPEND_LIMIT];
    fake.requests.length = 0;
    expect((await failure(modelFor(fake).model.complete('s', 'u'))).reason).toBe(
      '429 spend limit reached (enforced_spend_limit_reached)',
    );
  });

  it('opens the breaker after consecutive failures; then nothing leaves until the cooldown', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 30_000 }, undefined, () => now);
    fake.script = [{ status: 500 }];
    const { model } = modelFor(fake, breaker);
    const err = await failure(model.complete('s', 'u'));
    expect(fake.requests).toHaveLength(3);
    expect(err).toMatchObject({ breakerOpen: true, reason: 'circuit breaker open' });
    const refused = await failure(model.complete('s', 'u'));
    expect(refused).toMatchObject({ breakerOpen: true, attempts: 0 });
    expect(fake.requests).toHaveLength(3);
    now = 30_000;
    fake.script = [OK];
    fake.requests.length = 0;
    expect((await model.complete('s', 'u')).text).toBe('fine');
    expect(breaker.state).toBe('closed');
  });
});

describe('assistant agents with LLM_PROVIDER=anthropic', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let fake: FakeAnthropic;

  beforeAll(async () => {
    fake = await new FakeAnthropic([OK]).start();
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'api',
      env: {
        LLM_PROVIDER: 'anthropic',
        ANTHROPIC_API_KEY: 'test-key-not-secret',
        ANTHROPIC_BASE_URL: fake.url,
        LLM_RETRY_BASE_MS: '1',
        LLM_BREAKER_FAILURES: '3',
        LLM_PRICE_INPUT_USD_PER_MTOK: '3',
        LLM_PRICE_OUTPUT_USD_PER_MTOK: '15',
        RATE_LIMIT_PRO_PER_HOUR: '1000000',
      },
    });
    a = await createTestOrg(t.app, 'Model Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await fake?.stop();
  });

  it('routes with the model when the rules cannot, answers in its words, and records tokens and cost', async () => {
    fake.script = [
      { text: 'webhooks', input_tokens: 120, output_tokens: 2 },
      { text: 'You have no webhook endpoint yet.', input_tokens: 300, output_tokens: 40 },
    ];
    fake.requests.length = 0;
    const res = await t.http().post('/api/agents/ask').set(a.headers).send({ message: 'nothing arrives on my side' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      agent: 'webhooks',
      routed_by: 'model',
      provider: 'anthropic',
      answer: 'You have no webhook endpoint yet.',
      escalation_id: null,
    });
    const conv = await t.http().get(`/api/agents/conversations/${res.body.conversation_id}`).set(a.headers);
    // 420 × 3 + 42 × 15 micro-USD.
    expect(conv.body).toMatchObject({
      input_tokens: 420,
      output_tokens: 42,
      cost_micro_usd: 1890,
      provider: 'anthropic',
    });
    // The model saw this question and this org's evidence only.
    expect(JSON.stringify(fake.requests[1].body)).toContain('nothing arrives on my side');
    const audited = await sql<{ data: { purpose: string; outcome: string } }>(
      db.superuser,
      `SELECT data FROM audit_events WHERE org_id = $1 AND action = 'agents.model.called' ORDER BY seq`,
      [a.id],
    );
    expect(audited.map((x) => [x.data.purpose, x.data.outcome])).toEqual([
      ['route', 'ok'],
      ['answer', 'ok'],
    ]);
  });

  it('falls back to the rules when the model fails, says so, and escalates once the breaker is open', async () => {
    fake.script = [{ status: 500 }];
    fake.requests.length = 0;
    const res = await t
      .http()
      .post('/api/agents/ask')
      .set(a.headers)
      .send({ message: 'why is my webhook endpoint failing?' });
    expect(res.status).toBe(200);
    expect(res.body.provider).toBe('rules');
    expect(res.body.agent).toBe('webhooks');
    expect(res.body.answer).toContain('Your org has no webhook endpoint.');
    expect(res.body.answer).toContain('the model is unavailable: circuit breaker open');
    expect(fake.requests).toHaveLength(3);
    expect(res.body.escalation_id).toEqual(expect.any(String));
    const esc = await t.http().get('/api/agents/escalations').set(a.headers);
    expect(esc.body.items[0]).toMatchObject({ reason: 'provider_unavailable', id: res.body.escalation_id });
  });
});
