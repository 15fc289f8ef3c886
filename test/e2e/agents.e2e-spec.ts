import { AuditService } from '../../libs/audit';
import { ApprovalExecutor } from '../../src/agents/jobs/approval-executor.job';
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
import { finished, PERIOD, seedPayroll } from './fixtures/payroll-seed';

const FAST = {
  PAYROLL_POLL_INTERVAL_MS: '100',
  PAYROLL_CHECKPOINT_EVERY: '10',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  LOG_LEVEL: 'error',
};

interface Diagnosis {
  code: string;
  ticket_number: string | null;
  explanation: string;
  evidence: Record<string, unknown>;
  fix: string;
}

/**
 * Drivers and tickets that raise every flag code once: a per-ton driver with a ticket without
 * tons and a 100-ton outlier over a median of 10; an hourly driver with 16 hours on one day and a
 * deduction larger than his pay; a percentage driver's ticket without revenue; a per-load driver
 * without a rate; a per-load driver's ticket of 0 loads; one ticket number used twice.
 */
async function seedFlags(url: string, orgId: string): Promise<void> {
  await sql(
    url,
    `INSERT INTO payroll_drivers (org_id, name, pay_type, rate) VALUES
       ($1, 'Tess Tons', 'per_ton', 20), ($1, 'Hank Hours', 'hourly', 25), ($1, 'Penny Percent', 'percentage', 27.5),
       ($1, 'Nora Norate', 'per_load', NULL), ($1, 'Zed Zero', 'per_load', 30)`,
    [orgId],
  );
  const d = async (name: string) =>
    (await sql<{ id: string }>(url, `SELECT id FROM payroll_drivers WHERE org_id = $1 AND name = $2`, [orgId, name]))[0]
      .id;
  const [tess, hank, penny, nora, zed] = [
    await d('Tess Tons'),
    await d('Hank Hours'),
    await d('Penny Percent'),
    await d('Nora Norate'),
    await d('Zed Zero'),
  ];
  const tickets: [string, string, string, Record<string, string | number | null>][] = [
    ['T-1042', tess, '2026-11-03', { tons: null, hours: 8 }],
    ['T-1', tess, '2026-11-04', { tons: 10, hours: 8 }],
    ['T-2', tess, '2026-11-05', { tons: 10, hours: 8 }],
    ['T-3', tess, '2026-11-06', { tons: 10, hours: 8 }],
    ['T-4', tess, '2026-11-09', { tons: 10, hours: 8 }],
    ['T-5', tess, '2026-11-10', { tons: 10, hours: 8 }],
    ['T-BIG', tess, '2026-11-11', { tons: 100, hours: 8 }],
    ['H-1', hank, '2026-11-04', { hours: 8 }],
    ['H-2', hank, '2026-11-04', { hours: 8 }],
    ['DUP-7', hank, '2026-11-05', { hours: 4 }],
    ['DUP-7', tess, '2026-11-12', { tons: 10, hours: 4 }],
    ['P-1', penny, '2026-11-04', { revenue_cents: null, hours: 6 }],
    ['N-1', nora, '2026-11-04', { loads: 2, hours: 6 }],
    ['Z-1', zed, '2026-11-04', { loads: 0, hours: 6 }],
  ];
  for (const [number, driver, date, q] of tickets) {
    await sql(
      url,
      `INSERT INTO payroll_tickets (org_id, ticket_number, driver_id, work_date, hours, tons, loads, revenue_cents)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [orgId, number, driver, date, q.hours ?? null, q.tons ?? null, q.loads ?? null, q.revenue_cents ?? null],
    );
  }
  await sql(
    url,
    `INSERT INTO payroll_deductions (org_id, driver_id, name, kind, amount_cents) VALUES ($1, $2, 'Truck lease', 'fixed', 1000000)`,
    [orgId, hank],
  );
}

describe('assistant agents', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let c: TestOrg;
  let operator: Record<string, string>;
  let viewer: Record<string, string>;
  let noPayroll: Record<string, string>;
  let runId: string;

  const ask = (headers: Record<string, string>, body: object) =>
    t.http().post('/api/agents/ask').set(headers).send(body);
  const newKey = async (org: TestOrg, scopes: string[]) => {
    const res = await t
      .http()
      .post('/api/api-keys')
      .set(org.headers)
      .send({ name: scopes.join(' '), scopes });
    expect(res.status).toBe(201);
    return { 'X-API-Key': res.body.api_key as string };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: FAST });
    a = await createTestOrg(t.app, 'Haulers A', 'pro');
    b = await createTestOrg(t.app, 'Haulers B', 'pro');
    c = await createTestOrg(t.app, 'Haulers C', 'pro');
    operator = await newKey(a, ['agents:read', 'agents:write', 'approvals:write', 'payroll:read']);
    viewer = await newKey(a, ['agents:read', 'payroll:read']);
    noPayroll = await newKey(a, ['agents:read', 'agents:write']);
    await seedFlags(db.superuser, a.id);
    const res = await t
      .http()
      .post('/api/payroll/run')
      .set(a.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    expect(res.status).toBe(202);
    runId = res.body.job_id;
    expect((await finished(t, a, runId)).status).toBe('completed_with_flags');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('lists the assistant agents and their tools with schemas, scopes, annotations and approval policy', async () => {
    const agents = await t.http().get('/api/agents').set(a.headers);
    expect(agents.status).toBe(200);
    expect(agents.body.items.map((x: { key: string }) => x.key)).toEqual([
      'resolution',
      'ops',
      'sessions',
      'webhooks',
      'triage',
    ]);
    const tools = await t.http().get('/api/agents/tools').set(a.headers);
    const create = tools.body.items.find((x: { name: string }) => x.name === 'support.create_ticket');
    expect(create).toMatchObject({
      kind: 'write',
      approval: 'required',
      scopes: ['agents:write'],
      annotations: { read_only: false, destructive: false, idempotent: true },
      input_schema: { type: 'object', required: expect.arrayContaining(['subject', 'body', 'priority']) },
    });
    const read = tools.body.items.find((x: { name: string }) => x.name === 'payroll.run_evidence');
    expect(read).toMatchObject({ kind: 'read', approval: 'none', annotations: { read_only: true } });
  });

  it('golden: every flag of the run is diagnosed with its evidence values and a fix, and a ticket is drafted', async () => {
    const res = await ask(a.headers, { message: 'Why are lines held?', context: { payroll_run_id: runId } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ agent: 'resolution', routed_by: 'context.payroll_run_id', provider: 'rules' });
    const diagnoses = res.body.evidence as Diagnosis[];
    const by = (code: string, ticket?: string) =>
      diagnoses.find((d) => d.code === code && (ticket === undefined || d.ticket_number === ticket))!;
    expect(new Set(diagnoses.map((d) => d.code))).toEqual(
      new Set([
        'MISSING_QUANTITY',
        'QUANTITY_OUTLIER',
        'EXCESSIVE_HOURS',
        'DUPLICATE_TICKET',
        'MISSING_REVENUE',
        'MISSING_RATE',
        'ZERO_AMOUNT',
        'NET_SHORTFALL',
      ]),
    );
    expect(by('MISSING_QUANTITY', 'T-1042').explanation).toBe(
      'ticket T-1042 has no tons; per_ton drivers are paid by tons, so the line is held.',
    );
    expect(by('MISSING_QUANTITY', 'T-1042').fix).toContain("add tons to ticket T-1042 or change Tess Tons's pay type");
    expect(by('QUANTITY_OUTLIER', 'T-BIG').explanation).toContain('100.000 tons');
    expect(by('QUANTITY_OUTLIER', 'T-BIG').explanation).toContain('median of 10.000 tons over 7 tickets');
    expect(by('EXCESSIVE_HOURS', 'H-1').explanation).toContain('16.000 hours of tickets on 2026-11-04, more than 14');
    expect(by('DUPLICATE_TICKET', 'DUP-7').explanation).toContain('is used by 2 tickets');
    expect(by('DUPLICATE_TICKET', 'DUP-7').evidence.duplicates).toHaveLength(1);
    expect(by('MISSING_REVENUE', 'P-1').explanation).toContain('Penny Percent (percentage) is paid a percentage');
    expect(by('MISSING_RATE', 'N-1').explanation).toContain('Nora Norate (per_load) has no pay rate');
    expect(by('ZERO_AMOUNT', 'Z-1').explanation).toContain('pays 0.00: quantity 0.000 loads at rate 30');
    expect(by('NET_SHORTFALL').explanation).toMatch(
      /Hank Hours's net pay could not cover "Truck lease": \d+\.\d\d of 10000\.00/,
    );
    expect(res.body.answer).toContain('[MISSING_QUANTITY] ticket T-1042 has no tons');

    expect(res.body.proposals.map((x: { tool: string }) => x.tool)).toEqual([
      'support.create_ticket',
      'payroll.correct_ticket',
    ]);
    const [p, fix] = res.body.proposals;
    expect(fix.arguments).toEqual({
      ticket_id: expect.any(String),
      field: 'tons',
      value: '10.000',
      expected_current: '100.000',
    });
    expect(fix.summary).toBe('Set tons of ticket T-BIG from 100.000 to 10.000 (a misplaced decimal point?)');

    // Approved by someone holding payroll:write, the correction is applied once; a second draft
    // against the old value then fails instead of overwriting.
    const fixer = await newKey(a, ['agents:read', 'approvals:write', 'payroll:write']);
    expect((await t.http().post(`/api/approvals/${fix.approval_id}/approve`).set(fixer).send({})).status).toBe(200);
    const fixed = await waitFor(async () => {
      const r = await t.http().get(`/api/approvals/${fix.approval_id}`).set(a.headers);
      return r.body.status === 'executed' ? r.body : undefined;
    }, 20000);
    expect(fixed.result).toMatchObject({ ticket_number: 'T-BIG', field: 'tons', from: '100.000', to: '10.000' });
    const [ticket] = await sql<{ tons: string }>(db.superuser, `SELECT tons::text FROM payroll_tickets WHERE id = $1`, [
      fix.arguments.ticket_id,
    ]);
    expect(ticket.tons).toBe('10.000');
    const stale = await ask(a.headers, { message: 'again', context: { payroll_run_id: runId } });
    const staleFix = stale.body.proposals.find((x: { tool: string }) => x.tool === 'payroll.correct_ticket');
    expect((await t.http().post(`/api/approvals/${staleFix.approval_id}/approve`).set(fixer).send({})).status).toBe(
      200,
    );
    const failed = await waitFor(async () => {
      const r = await t.http().get(`/api/approvals/${staleFix.approval_id}`).set(a.headers);
      return r.body.status === 'execution_failed' ? r.body : undefined;
    }, 20000);
    expect(failed.error).toContain("The ticket's tons changed since the correction was drafted.");
    expect(p).toMatchObject({ tool: 'support.create_ticket', tool_version: 1, status: 'pending' });
    expect(p.arguments).toMatchObject({ priority: 'normal', payroll_run_id: runId });
    expect(p.arguments.subject).toMatch(/^Payroll run 2026-11-02\.\.2026-11-15: \d+ blocking issue\(s\)$/);
    expect(p.arguments.body).toContain('[MISSING_RATE]');
    expect(p.arguments.body).not.toContain('[ZERO_AMOUNT]');

    const conv = await t.http().get(`/api/agents/conversations/${res.body.conversation_id}`).set(a.headers);
    expect(conv.status).toBe(200);
    expect(conv.body.tool_calls).toEqual([
      expect.objectContaining({
        seq: 1,
        tool: 'payroll.run_evidence',
        outcome: 'ok',
        input: { payroll_run_id: runId },
      }),
    ]);
    expect(conv.body.tool_calls[0].duration_ms).toBeGreaterThan(0);
    expect(conv.body.proposals.map((x: { id: string }) => x.id)).toEqual([p.approval_id, fix.approval_id]);
  });

  it('golden: a clean run needs nothing, a failed run is explained with its error and retries', async () => {
    await seedPayroll(db.superuser, c.id, 2, 10);
    await sql(db.superuser, `UPDATE payroll_drivers SET pay_type = 'hourly', rate = 20 WHERE org_id = $1`, [c.id]);
    await sql(db.superuser, `UPDATE payroll_tickets SET hours = 8 WHERE org_id = $1`, [c.id]);
    const run = await t
      .http()
      .post('/api/payroll/run')
      .set(c.headers)
      .send({ pay_period_start: PERIOD.start, pay_period_end: PERIOD.end });
    expect((await finished(t, c, run.body.job_id)).status).toBe('completed');
    const clean = await ask(c.headers, { message: 'check', context: { payroll_run_id: run.body.job_id } });
    expect(clean.body.answer).toBe(
      'Payroll run 2026-11-02..2026-11-15 completed with no flagged lines: nothing to fix.',
    );
    expect(clean.body.proposals).toEqual([]);

    const [failed] = await sql<{ id: string }>(
      db.superuser,
      `INSERT INTO payroll_runs (org_id, pay_period_start, pay_period_end, status, attempts, last_error, finished_at)
       VALUES ($1, '2026-10-01', '2026-10-14', 'failed', 3, 'injected fault: statement timeout', now()) RETURNING id`,
      [c.id],
    );
    const res = await ask(c.headers, { message: 'why did it fail?', context: { payroll_run_id: failed.id } });
    const [d] = res.body.evidence as Diagnosis[];
    expect(d).toMatchObject({ code: 'RUN_FAILED' });
    expect(d.explanation).toBe('the run failed after 3 attempt(s): injected fault: statement timeout.');
    expect(res.body.proposals[0].arguments).toMatchObject({
      priority: 'high',
      subject: 'Payroll run 2026-10-01..2026-10-14 failed',
    });
    expect(res.body.proposals.map((x: { tool: string }) => x.tool)).toEqual([
      'support.create_ticket',
      'payroll.rerun_period',
    ]);
    const rerun = res.body.proposals[1];
    expect(rerun.arguments).toEqual({ pay_period_start: '2026-10-01', pay_period_end: '2026-10-14', replace: true });

    // Approving a rerun needs payroll:run as well; once approved, the worker enqueues it once.
    const approver = await newKey(c, ['agents:read', 'approvals:write', 'agents:write']);
    const lacking = await t.http().post(`/api/approvals/${rerun.approval_id}/approve`).set(approver).send({});
    expect(lacking.status).toBe(403);
    expect(lacking.body.missing_scopes).toEqual(['payroll:run']);
    const runner = await newKey(c, ['agents:read', 'approvals:write', 'agents:write', 'payroll:run']);
    expect((await t.http().post(`/api/approvals/${rerun.approval_id}/approve`).set(runner).send({})).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await t.http().get(`/api/approvals/${rerun.approval_id}`).set(c.headers);
      return r.body.status === 'executed' ? r.body : undefined;
    }, 20000);
    const rows = await sql<{ id: string; idempotency_key: string }>(
      db.superuser,
      `SELECT id, idempotency_key FROM payroll_runs WHERE org_id = $1 AND pay_period_start = '2026-10-01' AND status <> 'failed'`,
      [c.id],
    );
    expect(rows).toEqual([{ id: done.result.payroll_run_id, idempotency_key: `approval:${rerun.approval_id}` }]);

    // A caller without payroll:run gets the support ticket drafted, not the rerun.
    const drafter = await newKey(c, ['agents:write', 'payroll:read']);
    const limited = await ask(drafter, { message: 'why?', context: { payroll_run_id: failed.id } });
    expect(limited.body.proposals.map((x: { tool: string }) => x.tool)).toEqual(['support.create_ticket']);
  });

  it('approval: not by the requester, not by a viewer; approved once, executed once, audited', async () => {
    const res = await ask(a.headers, { message: 'draft a ticket', context: { payroll_run_id: runId } });
    const id = res.body.proposals[0].approval_id as string;
    const self = await t.http().post(`/api/approvals/${id}/approve`).set(a.headers).send({});
    expect(self.status).toBe(403);
    expect(self.headers['content-type']).toContain('application/problem+json');
    const asViewer = await t.http().post(`/api/approvals/${id}/approve`).set(viewer).send({});
    expect(asViewer.status).toBe(403);

    const ok = await t.http().post(`/api/approvals/${id}/approve`).set(operator).send({ reason: 'looks right' });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('approved');
    const again = await t.http().post(`/api/approvals/${id}/approve`).set(operator).send({});
    expect(again.status).toBe(409);
    const done = await waitFor(async () => {
      const r = await t.http().get(`/api/approvals/${id}`).set(a.headers);
      return r.body.status === 'executed' ? r.body : undefined;
    }, 20000);
    expect(done.result.support_ticket_id).toEqual(expect.any(String));
    expect(done.decided_by).toMatch(/^api_key:/);

    // A redelivered job finds it executed and does nothing.
    await t.app.get(ApprovalExecutor).handle({ org_id: a.id, approval_id: id });
    const tickets = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM support_tickets WHERE approval_id = $1`,
      [id],
    );
    expect(tickets[0].n).toBe(1);
    const events = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM domain_events WHERE org_id = $1 AND type = 'support_ticket.created' AND data->>'approval_id' = $2`,
      [a.id, id],
    );
    expect(events[0].n).toBe(1);

    const actions = await sql<{ action: string }>(
      db.superuser,
      `SELECT action FROM audit_events WHERE org_id = $1 AND target_id = $2 ORDER BY seq`,
      [a.id, id],
    );
    expect(actions.map((x) => x.action)).toEqual([
      'agents.approval.denied',
      'agents.approval.approved',
      'agents.approval.executed',
    ]);
    expect(await t.app.get(AuditService).verify(a.id)).toMatchObject({ ok: true });
  });

  it('approval: tampered arguments and an expired request cannot be approved or executed', async () => {
    const first = await ask(a.headers, { message: 'draft', context: { payroll_run_id: runId } });
    const tampered = first.body.proposals[0].approval_id as string;
    await sql(
      db.superuser,
      `UPDATE approval_requests SET arguments = jsonb_set(arguments, '{priority}', '"urgent"') WHERE id = $1`,
      [tampered],
    );
    const refused = await t.http().post(`/api/approvals/${tampered}/approve`).set(operator).send({});
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('the arguments do not match the hash');
    expect((await t.http().get(`/api/approvals/${tampered}`).set(a.headers)).body.status).toBe('cancelled');

    const second = await ask(a.headers, { message: 'draft', context: { payroll_run_id: runId } });
    const expired = second.body.proposals[0].approval_id as string;
    await sql(db.superuser, `UPDATE approval_requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expired,
    ]);
    const late = await t.http().post(`/api/approvals/${expired}/approve`).set(operator).send({});
    expect(late.status).toBe(409);
    expect((await t.http().get(`/api/approvals/${expired}`).set(a.headers)).body.status).toBe('expired');
    const escalations = await t.http().get('/api/agents/escalations').set(a.headers);
    expect(escalations.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'approval_expired', approval_id: expired })]),
    );

    // Approved, then tampered before the worker runs it: the executor refuses.
    const third = await ask(a.headers, { message: 'draft', context: { payroll_run_id: runId } });
    const raced = third.body.proposals[0].approval_id as string;
    await sql(
      db.superuser,
      `UPDATE approval_requests SET status = 'approved', decided_by = 'x', decided_by_type = 'api_key' WHERE id = $1`,
      [raced],
    );
    await sql(
      db.superuser,
      `UPDATE approval_requests SET arguments = jsonb_set(arguments, '{subject}', '"hijacked"') WHERE id = $1`,
      [raced],
    );
    await t.app.get(ApprovalExecutor).handle({ org_id: a.id, approval_id: raced });
    const after = (await t.http().get(`/api/approvals/${raced}`).set(a.headers)).body;
    expect(after.status).toBe('execution_failed');
    expect(after.error).toContain('the arguments do not match the hash');
    const rows = await sql(db.superuser, `SELECT 1 FROM support_tickets WHERE approval_id = $1`, [raced]);
    expect(rows).toEqual([]);
  });

  it('the permission gate: caller ∩ agent ∩ tool; a denial is a 403 naming the scope, audited and escalated', async () => {
    const res = await ask(noPayroll, { message: 'why?', context: { payroll_run_id: runId } });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.detail).toContain('payroll:read');
    expect(res.body.missing_scopes).toEqual(['payroll:read']);
    const denied = await sql<{ data: { tool: string } }>(
      db.superuser,
      `SELECT data FROM audit_events WHERE org_id = $1 AND action = 'agents.tool.denied'`,
      [a.id],
    );
    expect(denied.map((d) => d.data.tool)).toEqual(['payroll.run_evidence']);
    const esc = await t.http().get('/api/agents/escalations').set(a.headers);
    expect(esc.body.items.some((e: { reason: string }) => e.reason === 'policy_denied')).toBe(true);
  });

  it('routes by ids, then keywords; nothing matched or too little to go on is escalated to a person', async () => {
    const none = await ask(a.headers, { message: 'hello there' });
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({
      agent: 'triage',
      routed_by: 'no rule matched',
      escalation_id: expect.any(String),
    });
    const vague = await ask(a.headers, { message: 'my payroll looks wrong' });
    expect(vague.body).toMatchObject({
      agent: 'resolution',
      routed_by: 'keywords:resolution',
      escalation_id: expect.any(String),
    });
    const calls = await ask(a.headers, { message: 'why are calls queued?' });
    expect(calls.body).toMatchObject({ agent: 'sessions', answer: 'No call is waiting: the queue is empty.' });
    const hooks = await ask(a.headers, { message: 'why does my webhook endpoint fail?' });
    expect(hooks.body).toMatchObject({ agent: 'webhooks', answer: 'Your org has no webhook endpoint.' });
    const ops = await ask(a.headers, { message: 'is there an outage?' });
    expect(ops.body).toMatchObject({ agent: 'ops', answer: 'No incident affects your org right now.' });
  });

  it('keeps conversations and approvals inside their org (HTTP and RLS)', async () => {
    const res = await ask(a.headers, { message: 'x', context: { payroll_run_id: runId } });
    await expectOrgIsolation(t.http, a, b, [
      {
        path: `/api/agents/conversations/${res.body.conversation_id}`,
        id: res.body.conversation_id,
        methods: ['get'],
        lists: ['/api/agents/conversations'],
      },
      {
        path: `/api/approvals/${res.body.proposals[0].approval_id}`,
        id: res.body.proposals[0].approval_id,
        methods: ['get'],
        lists: ['/api/approvals'],
      },
    ]);
    const cross = await ask(b.headers, { message: 'x', context: { payroll_run_id: runId } });
    expect(cross.status).toBe(404);
    const approveCross = await t
      .http()
      .post(`/api/approvals/${res.body.proposals[0].approval_id}/approve`)
      .set(b.headers)
      .send({});
    expect(approveCross.status).toBe(404);
  });

  it('answers hostile input with 4xx problem+json', async () => {
    const cases: [string, string, object | undefined][] = [
      ['post', '/api/agents/ask', { message: 'a\u0000b' }],
      ['post', '/api/agents/ask', { message: '' }],
      ['post', '/api/agents/ask', { message: 'x', context: { payroll_run_id: 'not-a-uuid' } }],
      ['post', '/api/agents/ask', { message: 'x', agent: 'root' }],
      ['post', '/api/agents/ask', { message: 'x', context: 'run' }],
      ['post', '/api/agents/ask', { message: ['x'] }],
      ['get', '/api/agents/conversations?cursor=forged', undefined],
      ['get', '/api/agents/conversations/not-a-uuid', undefined],
      ['get', '/api/approvals?status=bogus', undefined],
      ['post', '/api/approvals/not-a-uuid/approve', {}],
      ['post', '/api/approvals/00000000-0000-4000-8000-000000000000/reject', {}],
      ['post', '/api/approvals/00000000-0000-4000-8000-000000000000/approve', { reason: 'a'.repeat(3000) }],
    ];
    for (const [method, path, body] of cases) {
      const req = method === 'get' ? t.http().get(path) : t.http().post(path).send(body);
      const res = await req.set(a.headers);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const missing = await t
      .http()
      .post('/api/approvals/00000000-0000-4000-8000-000000000000/approve')
      .set(a.headers)
      .send({});
    expect(missing.status).toBe(404);
  });
});
