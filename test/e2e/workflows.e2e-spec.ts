import { WorkflowRunner } from '../../src/workflows/jobs/workflow-runner.job';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  expectOrgIsolation,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { finished, PERIOD } from './fixtures/payroll-seed';

const FAST = {
  PAYROLL_POLL_INTERVAL_MS: '100',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  LOG_LEVEL: 'error',
};

interface Workflow {
  id: string;
  status: string;
  steps_done: number;
  error: string | null;
  result: Record<string, unknown> | null;
  steps: { seq: number; step: number; branch: number; round: number; agent: string; input: { message: string } }[];
  proposals: { id: string; tool: string; status: string }[];
  escalations: unknown[];
}

describe('multi-agent workflows', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let runId: string;

  const start = (org: TestOrg, body: object, key?: string) => {
    const req = t.http().post('/api/workflows').set(org.headers);
    return (key ? req.set('Idempotency-Key', key) : req).send(body);
  };
  const get = async (org: TestOrg, id: string) =>
    (await t.http().get(`/api/workflows/${id}`).set(org.headers)).body as Workflow;
  const until = (org: TestOrg, id: string, statuses: string[]) =>
    waitFor(async () => {
      const w = await get(org, id);
      return statuses.includes(w.status) ? w : undefined;
    }, 30000);

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    a = await createTestOrg(t.app, 'Workflow Org A', 'pro');
    b = await createTestOrg(t.app, 'Workflow Org B', 'pro');
    // One per-ton driver whose ticket has no tons: a blocking flag, so the resolution agent drafts a ticket.
    const [driver] = await sql<{ id: string }>(
      db.superuser,
      `INSERT INTO payroll_drivers (org_id, name, pay_type, rate) VALUES ($1, 'Tess Tons', 'per_ton', 20) RETURNING id`,
      [a.id],
    );
    await sql(
      db.superuser,
      `INSERT INTO payroll_tickets (org_id, ticket_number, driver_id, work_date, hours, tons)
       VALUES ($1, 'T-1042', $2, '2026-11-03', 8, NULL), ($1, 'T-1043', $2, '2026-11-04', 8, 12)`,
      [a.id, driver.id],
    );
    const run = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    runId = run.body.job_id;
    expect((await finished(t, a, runId)).status).toBe('completed_with_flags');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('sequential: each agent gets the previous output; the last answers', async () => {
    const res = await start(a, {
      pattern: 'sequential',
      agents: ['ops', 'sessions', 'webhooks'],
      input: { message: 'status?' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
    const w = await until(a, res.body.id, ['completed']);
    expect(w.steps.map((s) => [s.seq, s.step, s.agent])).toEqual([
      [1, 0, 'ops'],
      [2, 1, 'sessions'],
      [3, 2, 'webhooks'],
    ]);
    expect(w.steps[1].input.message).toContain('The ops agent said:\nNo incident affects your org right now.');
    expect(w.result).toEqual({
      answer: 'Your org has no webhook endpoint.',
      chain: [
        { agent: 'ops', answer: 'No incident affects your org right now.' },
        { agent: 'sessions', answer: 'No call is waiting: the queue is empty.' },
        { agent: 'webhooks', answer: 'Your org has no webhook endpoint.' },
      ],
    });
  });

  it('parallel, panel and debate give their golden results with the rules provider', async () => {
    const par = await start(a, { pattern: 'parallel', agents: ['sessions', 'webhooks'], input: { message: 'x' } });
    const panel = await start(a, {
      pattern: 'panel',
      agents: ['sessions', 'webhooks', 'ops'],
      input: { message: 'cause?' },
    });
    const debate = await start(a, {
      pattern: 'debate',
      agents: ['webhooks', 'sessions'],
      input: { message: 'who is right?' },
      options: { rounds: 2 },
    });
    const p = await until(a, par.body.id, ['completed']);
    expect(p.result).toEqual({
      outputs: [
        { agent: 'sessions', answer: 'No call is waiting: the queue is empty.', confidence: 0.9, findings: [] },
        { agent: 'webhooks', answer: 'Your org has no webhook endpoint.', confidence: 0.9, findings: [] },
      ],
    });
    expect(p.steps.map((s) => [s.step, s.branch])).toEqual([
      [0, 0],
      [0, 1],
    ]);
    const v = await until(a, panel.body.id, ['completed']);
    expect(v.result).toMatchObject({ decision: 'no_finding', agreement: 1, needed: 0.6 });
    const d = await until(a, debate.body.id, ['completed']);
    expect(d.steps.map((s) => [s.round, s.agent])).toEqual([
      [0, 'webhooks'],
      [0, 'sessions'],
      [1, 'webhooks'],
      [1, 'sessions'],
    ]);
    expect(d.steps[2].input.message).toContain('The others answered:\nsessions: No call is waiting');
    expect(d.result).toEqual({
      answer: 'Your org has no webhook endpoint.',
      winner: 'webhooks',
      judge: 'triage',
      rounds: 2,
    });
  });

  it('verification parks while its draft waits for a person; a rejection cancels the run with the reason', async () => {
    const res = await start(a, {
      pattern: 'verification',
      agents: ['resolution', 'resolution'],
      input: { message: 'why flags?', context: { payroll_run_id: runId } },
    });
    const parked = await until(a, res.body.id, ['waiting_approval']);
    expect(parked.steps_done).toBe(1);
    expect(parked.proposals).toEqual([expect.objectContaining({ tool: 'support.create_ticket', status: 'pending' })]);
    const [lease] = await sql<{ lease_owner: string | null }>(
      db.superuser,
      `SELECT lease_owner FROM workflow_runs WHERE id = $1`,
      [res.body.id],
    );
    expect(lease.lease_owner).toBeNull();

    const reviewer = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'reviewer', scopes: ['approvals:write', 'agents:write', 'agents:read'] });
    const headers = { 'X-API-Key': reviewer.body.api_key as string };
    const rejected = await t
      .http()
      .post(`/api/approvals/${parked.proposals[0].id}/reject`)
      .set(headers)
      .send({ reason: 'not now' });
    expect(rejected.status).toBe(200);
    const ended = await until(a, res.body.id, ['cancelled']);
    expect(ended.error).toBe('approval rejected: not now');
    expect(ended.steps_done).toBe(1);
  });

  it('verification resumes after the approval executes, checks the draft against the data, and completes', async () => {
    const res = await start(a, {
      pattern: 'verification',
      agents: ['resolution', 'resolution'],
      input: { message: 'why flags?', context: { payroll_run_id: runId } },
    });
    const parked = await until(a, res.body.id, ['waiting_approval']);
    const reviewer = await t
      .http()
      .post('/api/api-keys')
      .set(a.headers)
      .send({ name: 'approver', scopes: ['approvals:write', 'agents:write', 'agents:read'] });
    const ok = await t
      .http()
      .post(`/api/approvals/${parked.proposals[0].id}/approve`)
      .set({ 'X-API-Key': reviewer.body.api_key as string })
      .send({});
    expect(ok.status).toBe(200);
    // The checker drafts its own ticket: each pending draft is approved until the run completes.
    const headers = { 'X-API-Key': reviewer.body.api_key as string };
    await waitFor(async () => {
      const w = await get(a, res.body.id);
      if (w.status === 'completed') return w;
      const pending = w.proposals.find((p) => p.status === 'pending');
      if (pending) await t.http().post(`/api/approvals/${pending.id}/approve`).set(headers).send({});
      return undefined;
    }, 30000);
    const w = await until(a, res.body.id, ['completed']);
    expect(w.result).toMatchObject({ verified: true, rounds: 1, confirmed: ['MISSING_QUANTITY'] });
    expect(w.steps.map((s) => [s.step, s.round, s.agent])).toEqual([
      [0, 0, 'resolution'],
      [1, 0, 'resolution'],
    ]);
    const events = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM domain_events WHERE org_id = $1 AND type = 'workflow.completed' AND data->>'workflow_id' = $2`,
      [a.id, res.body.id],
    );
    expect(events[0].n).toBe(1);
  });

  it('never runs a finished step twice, however many workers advance the run', async () => {
    const res = await start(a, {
      pattern: 'sequential',
      agents: ['ops', 'sessions', 'webhooks', 'ops', 'sessions'],
      input: { message: 'x' },
    });
    const runner = t.app.get(WorkflowRunner);
    await Promise.all([1, 2, 3].map(() => runner.handle({ org_id: a.id, run_id: res.body.id })));
    const w = await until(a, res.body.id, ['completed']);
    expect(w.steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    const [rows] = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM workflow_steps WHERE run_id = $1`,
      [res.body.id],
    );
    expect(rows.n).toBe(5);
  });

  it('is idempotent by key, cancellable while live (409 after), and refuses a workflow over the step limit', async () => {
    const body = {
      pattern: 'verification',
      agents: ['resolution', 'resolution'],
      input: { message: 'x', context: { payroll_run_id: runId } },
    };
    const first = await start(a, body, 'wf-key-1');
    const again = await start(a, body, 'wf-key-1');
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const parked = await until(a, first.body.id, ['waiting_approval']);
    const cancelled = await t.http().post(`/api/workflows/${first.body.id}/cancel`).set(a.headers).send({});
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.proposals.map((p: { status: string }) => p.status)).toEqual(['cancelled']);
    expect(parked.proposals).toHaveLength(1);
    expect((await t.http().post(`/api/workflows/${first.body.id}/cancel`).set(a.headers).send({})).status).toBe(409);

    const huge = await start(a, {
      pattern: 'debate',
      agents: Array(20).fill('ops'),
      input: { message: 'x' },
      options: { rounds: 5 },
    });
    expect(huge.status).toBe(400);
    expect(huge.body.detail).toContain('the limit is 50');
  });

  it('keeps workflows inside their org, and answers bad input with 4xx problem+json', async () => {
    const res = await start(a, { pattern: 'parallel', agents: ['ops'], input: { message: 'x' } });
    await until(a, res.body.id, ['completed']);
    await expectOrgIsolation(t.http, a, b, [
      { path: `/api/workflows/${res.body.id}`, id: res.body.id, methods: ['get'], lists: ['/api/workflows'] },
    ]);
    expect((await t.http().post(`/api/workflows/${res.body.id}/cancel`).set(b.headers).send({})).status).toBe(404);
    const cases: object[] = [
      { pattern: 'chain', agents: ['ops'], input: { message: 'x' } },
      { pattern: 'parallel', agents: [], input: { message: 'x' } },
      { pattern: 'parallel', agents: ['root'], input: { message: 'x' } },
      { pattern: 'parallel', agents: ['ops'], input: { message: '\u0000' } },
      { pattern: 'parallel', agents: ['ops'], input: { message: 'x', context: { payroll_run_id: 'nope' } } },
      { pattern: 'verification', agents: ['ops'], input: { message: 'x' } },
      { pattern: 'debate', agents: ['ops'], input: { message: 'x' } },
      { pattern: 'panel', agents: ['ops'], input: { message: 'x' }, options: { agreement: 2 } },
      { pattern: 'parallel', agents: ['ops'], input: 'x' },
    ];
    for (const body of cases) {
      const r = await start(a, body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), 400]);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await start(a, { pattern: 'parallel', agents: ['ops'], input: { message: 'x' } }, 'k'.repeat(201))).status,
    ).toBe(400);
    for (const path of ['/api/workflows?cursor=forged', '/api/workflows?status=done', '/api/workflows/not-a-uuid']) {
      expect((await t.http().get(path).set(a.headers)).status).toBe(400);
    }
  });
});
