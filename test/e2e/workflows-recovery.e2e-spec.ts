import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  dbEnv,
  freePort,
  spawnApp,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import type { SpawnedApp } from '../support';
import { FakeAnthropic } from './fixtures/fake-anthropic';

const AGENTS = ['ops', 'sessions', 'webhooks'];
const TWENTY = Array.from({ length: 20 }, (_, i) => AGENTS[i % 3]);

/**
 * Workflows across worker processes, with a model that takes 150 ms per answer (the fake Messages
 * API on 127.0.0.1): a 529 burst in the middle of a debate is retried by the provider's policy; a
 * worker SIGKILLed in the middle of a 20-step workflow leaves it to another worker, which finishes
 * it without running any finished step again, with the same result as an undisturbed run.
 */
describe('workflows survive a dead worker', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let fake: FakeAnthropic;
  let env: Record<string, string>;
  const workers: SpawnedApp[] = [];

  const worker = async () => {
    const w = spawnApp(['worker'], { ...env, HEALTH_PORT: String(await freePort()) });
    workers.push(w);
    return w;
  };
  const get = async (id: string) => (await t.http().get(`/api/workflows/${id}`).set(a.headers)).body;
  const start = async (body: object) => {
    const res = await t.http().post('/api/workflows').set(a.headers).send(body);
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const completed = (id: string, timeoutMs = 60000) =>
    waitFor(async () => {
      const w = await get(id);
      return w.status === 'completed' ? w : undefined;
    }, timeoutMs);

  beforeAll(async () => {
    fake = await new FakeAnthropic([{ text: 'The model summary.' }], 150).start();
    db = await createTestDatabase();
    env = {
      ...dbEnv(db),
      LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: 'test-key-not-secret',
      ANTHROPIC_BASE_URL: fake.url,
      LLM_RETRY_BASE_MS: '1',
      WORKFLOW_LEASE_SECONDS: '2',
      QUEUE_POLL_INTERVAL_SECONDS: '0.5',
      LOG_LEVEL: 'warn',
    };
    // The api in-process (it only accepts workflows); the workers are real processes.
    t = await createTestHttpApp({
      db,
      role: 'api',
      env: { LLM_PROVIDER: 'rules', RATE_LIMIT_PRO_PER_HOUR: '1000000' },
    });
    a = await createTestOrg(t.app, 'Recovery Org', 'pro');
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await t?.close();
    await db?.drop();
    await fake?.stop();
  });

  it('a 529 burst in the middle of a debate is retried per policy and the debate completes', async () => {
    await worker();
    fake.requests.length = 0;
    fake.script = [
      { text: 'The model summary.' },
      { text: 'The model summary.' },
      { status: 529, headers: { 'retry-after-ms': '20' } },
      { status: 529 },
      { status: 529 },
      { text: 'The model summary.' },
    ];
    const id = await start({
      pattern: 'debate',
      agents: ['ops', 'webhooks'],
      input: { message: 'x' },
      options: { rounds: 2 },
    });
    const w = await completed(id);
    expect(w.steps).toHaveLength(4);
    expect(w.result).toMatchObject({ answer: 'The model summary.', judge: 'triage', rounds: 2 });
    const calls = await sql<{ data: { attempts: number; waits_ms: number[]; outcome: string } }>(
      db.superuser,
      `SELECT data FROM audit_events WHERE org_id = $1 AND action = 'agents.model.called' AND target_id = $2 ORDER BY seq`,
      [a.id, id],
    );
    expect(calls.map((c) => c.data.attempts)).toEqual([1, 1, 4, 1]);
    expect(calls[2].data.waits_ms[0]).toBe(20);
    expect(calls.every((c) => c.data.outcome === 'ok')).toBe(true);
    expect(fake.requests).toHaveLength(7);
  });

  it('a worker SIGKILLed mid-workflow: another finishes it, no finished step runs again, same result', async () => {
    fake.script = [{ text: 'The model summary.' }];
    const calm = await completed(await start({ pattern: 'sequential', agents: TWENTY, input: { message: 'status?' } }));

    const id = await start({ pattern: 'sequential', agents: TWENTY, input: { message: 'status?' } });
    const before = await waitFor(async () => {
      const w = await get(id);
      return w.steps_done >= 5 ? w : undefined;
    }, 60000);
    const first = workers[0];
    await first.stop('SIGKILL');
    const [{ n: atKill }] = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM workflow_steps WHERE run_id = $1`,
      [id],
    );
    expect(atKill).toBeGreaterThanOrEqual(before.steps_done);
    expect(atKill).toBeLessThan(20);
    await worker();
    const done = await completed(id);

    const steps = await sql<{ step: number; seq: number; executed_by: string }>(
      db.superuser,
      `SELECT step, seq, executed_by FROM workflow_steps WHERE run_id = $1 ORDER BY seq`,
      [id],
    );
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(steps.map((s) => s.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // The dead worker's steps stand as it committed them; the successor ran only the rest.
    const owners = [...new Set(steps.map((s) => s.executed_by))];
    expect(owners).toHaveLength(2);
    expect(steps.slice(0, atKill).every((s) => s.executed_by === owners[0])).toBe(true);
    expect(steps.slice(atKill).every((s) => s.executed_by === owners[1])).toBe(true);
    expect(done.result).toEqual(calm.result);
    process.stdout.write(
      `workflows-recovery: ${atKill} steps before SIGKILL, ${20 - atKill} after, by another worker\n`,
    );
  });
});
