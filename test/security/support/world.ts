import { argumentsHash } from '../../../src/agents/approval-hash';
import { ApiKeysService } from '../../../src/orgs/api-keys.service';
import { DatabaseService } from '../../../libs/database';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../../support';
import { Op, OpenApiDoc, operations } from './openapi';

/** Settings for the attack: generous limits (the suite sends thousands of requests). */
export const SECURITY_ENV = {
  RATE_LIMIT_PRO_PER_HOUR: '100000000',
  RATE_LIMIT_IP_PER_15_MIN: '10000000',
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
  CALL_OFFER_TIMEOUT_SECONDS: '600',
  PAYROLL_POLL_INTERVAL_MS: '100',
  // No background evaluation in the attacked api process (its incidents would change org data).
  HEALTH_SAMPLE_SECONDS: '3600',
};

/** An org holding data in every feature; `ids` maps a path template to one of its objects. */
export interface SeededOrg extends TestOrg {
  ids: Record<string, string>;
}

export interface SecurityWorld {
  db: TestDatabase;
  t: TestHttpApp;
  a: SeededOrg;
  b: SeededOrg;
  platformKey: string;
  doc: OpenApiDoc;
  ops: Op[];
  /** One hash over every row of an org's data (audit log and rate counters aside). */
  fingerprint: (orgId: string) => Promise<string>;
  close: () => Promise<void>;
}

async function seedOrg(t: TestHttpApp, org: TestOrg, tag: string): Promise<SeededOrg> {
  const post = async (path: string, body: object, status = 201) =>
    (await t.http().post(path).set(org.headers).send(body).expect(status)).body as Record<string, string>;
  const driver = await post('/api/payroll/drivers', {
    name: `Driver ${tag}`,
    pay_type: 'per_load',
    rate: '100',
    external_ref: `drv-${tag}`,
  });
  await post('/api/payroll/tickets', {
    tickets: [{ ticket_number: `T-${tag}-1`, driver_id: driver.id, work_date: '2025-03-03', loads: '2' }],
  });
  await post('/api/payroll/deductions', {
    driver_id: driver.id,
    name: `Lease ${tag}`,
    kind: 'fixed',
    amount_cents: 100,
  });
  const run = await post('/api/payroll/run', { pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' }, 202);
  await waitFor(async () => {
    const res = await t.http().get(`/api/payroll/jobs/${run.job_id}`).set(org.headers);
    return ['completed', 'completed_with_flags'].includes(res.body.status);
  }, 180_000);
  const agent = await post('/api/sessions/agents', { name: `Agent ${tag}`, external_ref: `agent-${tag}` });
  const session = await post('/api/sessions/login', { agent_id: agent.id, device_connected: true });
  const call = await post('/api/calls/inbound', { from: '+15550001234', external_id: `call-${tag}` });
  const endpoint = await post('/api/webhooks/endpoints', { url: 'http://127.0.0.1:9/hook', event_types: ['*'] });
  // A delivery of its own: the events above may have been relayed before the endpoint existed.
  await post(`/api/webhooks/endpoints/${endpoint.id}/test`, {}, 202);
  const delivery = await waitFor(async () => {
    const res = await t.http().get('/api/webhooks/deliveries?limit=1').set(org.headers);
    return (res.body.items as { id: string }[] | undefined)?.[0];
  }, 180_000);
  const source = await post('/api/webhooks/sources', { provider: 'standard', name: `in-${tag}` });
  const key = await post('/api/api-keys', { name: `extra ${tag}`, scopes: ['keys:read'] });
  const conversation = await post(
    '/api/agents/ask',
    { message: 'Why are lines held?', context: { payroll_run_id: run.job_id } },
    200,
  );
  const workflow = await post(
    '/api/workflows',
    { pattern: 'parallel', agents: ['ops', 'sessions'], input: { message: 'status?' } },
    202,
  );
  // A pending approval of a drafted action, requested by someone else than the org's key.
  const args = { subject: `Seeded ${tag}`, body: 'seed', priority: 'low', payroll_run_id: run.job_id, ticket_ids: [] };
  const [approval] = (await t.app.get(DatabaseService).system.query(
    `INSERT INTO approval_requests (org_id, conversation_id, agent, tool, tool_version, arguments, arguments_hash, summary,
                                    requested_by_type, requested_by, expires_at)
     VALUES ($1, $2, 'resolution', 'support.create_ticket', 1, $3, $4, 'seeded', 'system', 'security-seed',
             now() + interval '1 day') RETURNING id`,
    [org.id, conversation.conversation_id, JSON.stringify(args), argumentsHash('support.create_ticket', 1, args)],
  )) as { id: string }[];
  return {
    ...org,
    ids: {
      '/api/payroll/drivers/{id}': driver.id,
      '/api/payroll/jobs/{job_id}': run.job_id,
      '/api/sessions/agents/{agent_id}': agent.id,
      '/api/sessions/{session_id}': session.id,
      '/api/calls/{call_id}': call.call_id,
      '/api/webhooks/endpoints/{id}': endpoint.id,
      '/api/webhooks/deliveries/{id}': delivery.id,
      '/api/webhooks/sources/{source_id}': source.id,
      '/api/webhooks/inbound/{source_id}': source.id,
      '/api/api-keys/{id}': key.id,
      '/api/agents/conversations/{id}': conversation.conversation_id,
      '/api/approvals/{id}': approval.id,
      '/api/workflows/{id}': workflow.id,
    },
  };
}

/** The seeded object an operation's path names, by the longest matching template. */
export function idFor(org: SeededOrg, path: string): string | undefined {
  const key = Object.keys(org.ids)
    .filter((k) => path === k || path.startsWith(`${k}/`))
    .sort((x, y) => y.length - x.length)[0];
  return key ? org.ids[key] : undefined;
}

/** Tables whose rows change without a request of the org (or on every use) stay out of the hash. */
const VOLATILE_TABLES = new Set(['audit_events', 'rate_limit_counters']);

async function fingerprintOf(db: TestDatabase, orgId: string): Promise<string> {
  const tables = await sql<{ table_name: string }>(
    db.superuser,
    `SELECT table_name FROM information_schema.columns
     WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY table_name`,
  );
  const parts = tables
    .map((r) => r.table_name)
    .filter((name) => !VOLATILE_TABLES.has(name))
    .map(
      (name) =>
        `(SELECT coalesce(md5(string_agg(md5((to_jsonb(x) - 'last_used_at')::text), '' ORDER BY md5((to_jsonb(x) - 'last_used_at')::text))), '') FROM ${name} x WHERE x.org_id = $1)`,
    );
  const [row] = await sql<{ h: string }>(
    db.superuser,
    `SELECT md5(concat_ws('|', (SELECT md5(to_jsonb(o)::text) FROM orgs o WHERE o.id = $1), ${parts.join(', ')})) AS h`,
    [orgId],
  );
  return row.h;
}

/**
 * Two orgs with data in every feature, seeded through HTTP by the `all` role (a payroll run
 * needs the worker); the attack then runs on an `api` process, where nothing changes data in
 * the background, so a changed fingerprint can only come from the request.
 */
export async function createSecurityWorld(): Promise<SecurityWorld> {
  const db = await createTestDatabase();
  const seeding = await createTestHttpApp({ db, role: 'all', env: SECURITY_ENV });
  let a: SeededOrg;
  let b: SeededOrg;
  try {
    a = await seedOrg(seeding, await createTestOrg(seeding.app, 'Security Org A', 'pro'), 'a');
    b = await seedOrg(seeding, await createTestOrg(seeding.app, 'Security Org B', 'pro'), 'b');
    // An incident declared for each org: a tenant sees only the one that affects it.
    const seedKey = await seeding.app
      .get(DatabaseService)
      .system.transaction((m) => seeding.app.get(ApiKeysService).insertPlatformKey(m, 'security seeds', 'test'));
    for (const org of [a, b]) {
      const incident = await seeding
        .http()
        .post('/api/ops/incidents')
        .set({ 'X-API-Key': seedKey })
        .send({ title: `Incident of ${org.id}`, severity: 'SEV3', category: 'availability', org_ids: [org.id] })
        .expect(201);
      org.ids['/api/incidents/{id}'] = (incident.body as { id: string }).id;
    }
  } finally {
    await seeding.close();
  }
  const t = await createTestHttpApp({ db, role: 'api', env: SECURITY_ENV });
  const keys = t.app.get(ApiKeysService);
  const platformKey = await t.app
    .get(DatabaseService)
    .system.transaction((m) => keys.insertPlatformKey(m, 'security suite', 'test'));
  const doc = (await t.http().get('/docs-json').expect(200)).body as OpenApiDoc;
  return {
    db,
    t,
    a,
    b,
    platformKey,
    doc,
    ops: operations(doc),
    fingerprint: (orgId) => fingerprintOf(db, orgId),
    close: async () => {
      await t.close();
      await db.drop();
    },
  };
}
