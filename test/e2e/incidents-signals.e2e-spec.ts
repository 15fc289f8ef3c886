import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Client } from 'pg';
import { DatabaseService } from '../../libs/database';
import { IncidentDetector } from '../../src/incidents/detection/incident-detector.service';
import { ProcessSampler } from '../../src/incidents/signals/process-sampler';
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { Receiver } from './fixtures/webhook-receiver';

async function asOrg(url: string, org: string, statement: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SELECT set_config('app.current_org', $1, false)`, [org]);
    return (await client.query(statement)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/**
 * Org-level signals induced through the product itself — rejected ticket uploads, a call
 * queued with no agent, a webhook receiver answering 500 — each open one incident that
 * names the right org, with the rule's severity and category and its safe action; the
 * affected tenant sees it in customer terms (and gets `incident.*` webhooks), the other
 * tenant never does; operators get signed alerts, and a failing alert channel raises its own
 * signal without alerting about itself. A flapping condition gives one quiet incident.
 */
const OPS_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const THRESHOLDS = {
  ticket_upload_failure_ratio: { warning: 0.2, critical: 0.5, for_seconds: 0, keep_firing_for_seconds: 1 },
  calls_waiting_without_agents: { warning: null, critical: 1, for_seconds: 0, keep_firing_for_seconds: 1 },
  webhook_failure_ratio: { warning: null, critical: 0.5, for_seconds: 0, keep_firing_for_seconds: 1 },
  ops_alert_failures: { warning: 1, critical: null, for_seconds: 0, keep_firing_for_seconds: 1 },
  db_latency_ms: { warning: null, critical: 1000, for_seconds: 0, keep_firing_for_seconds: 0 },
};

interface Incident {
  id: string;
  signal: string;
  resource: string;
  severity: string;
  category: string;
  status: string;
  orgs_affected: number;
  flapping: boolean;
}

describe('incidents from org signals: impact, isolation, actions, alerts, flapping', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let a: TestOrg;
  let b: TestOrg;
  let ops: Record<string, string>;
  const receiver = new Receiver();

  const tick = async () => {
    await t.app.get(ProcessSampler).sample();
    return t.app.get(IncidentDetector).evaluate();
  };
  const incidentOf = async (signal: string): Promise<Incident | undefined> => {
    const res = await t.http().get('/api/ops/incidents?limit=200').set(ops).expect(200);
    return (res.body.items as Incident[]).find((i) => i.signal === signal);
  };
  const incidentsOf = async (signal: string) =>
    sql<{ id: string; status: string; flapping: boolean }>(
      db.superuser,
      `SELECT id, status, flapping FROM incidents WHERE signal = $1`,
      [signal],
    );
  const actionsOf = async (id: string) =>
    (await t.http().get(`/api/ops/incidents/${id}/recommendations`).set(ops).expect(200)).body.actions as {
      action: string;
      status: string;
      params: Record<string, string>;
    }[];
  const opsAlerts = (name: string) =>
    (receiver.hits.get(name) ?? []).map((h) => JSON.parse(h.body) as { type: string; data: Record<string, unknown> });

  beforeAll(async () => {
    await receiver.start();
    receiver.secrets.set('ops', [OPS_SECRET]);
    receiver.behaviour.set('ops-broken', () => 500);
    receiver.behaviour.set('failing', () => 500);
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      env: {
        HEALTH_SAMPLE_SECONDS: '3600',
        HEALTH_DISK_PATH: tmpdir(),
        INCIDENT_THRESHOLDS: JSON.stringify(THRESHOLDS),
        OPS_ALERT_WEBHOOK_URLS: `${receiver.url('ops')},${receiver.url('ops-broken')}`,
        OPS_ALERT_WEBHOOK_SECRET: OPS_SECRET,
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_RETRY_SCHEDULE: '1h',
        WEBHOOK_BREAKER_FAILURES: '100',
        RATE_LIMIT_PRO_PER_HOUR: '1000000',
        CALL_OFFER_TIMEOUT_SECONDS: '600',
      },
    });
    a = await createTestOrg(t.app, 'Signals Org A');
    b = await createTestOrg(t.app, 'Signals Org B');
    const keys = t.app.get(ApiKeysService);
    const key = await t.app.get(DatabaseService).system.transaction((m) => keys.insertPlatformKey(m, 'ops', 'test'));
    ops = { 'X-API-Key': key };
    // Org A listens for incidents on a healthy receiver.
    const ep = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(a.headers)
      .send({ url: receiver.url('tenant-a'), event_types: ['incident.opened', 'incident.resolved'] })
      .expect(201);
    receiver.secrets.set('tenant-a', [ep.body.secret]);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    receiver.server?.close();
  });

  let uploadIncident: Incident;

  it('rejected ticket uploads of org A open one data-integrity incident affecting org A only', async () => {
    for (let i = 0; i < 3; i++) {
      await t
        .http()
        .post('/api/payroll/tickets')
        .set(a.headers)
        .send({ tickets: [{ ticket_number: `bad-${i}`, work_date: 'not a date', loads: '1' }] })
        .expect(400);
    }
    await tick();
    await tick();
    const health = await t.http().get('/api/ops/health').set(ops).expect(200);
    const ratio = (health.body.signals as { signal: string; resource: string; value: number; state: string }[]).find(
      (s) => s.signal === 'ticket_upload_failure_ratio' && s.resource === a.id,
    );
    expect(ratio).toMatchObject({ value: 1, state: 'critical' });
    expect(await incidentsOf('ticket_upload_failure_ratio')).toHaveLength(1);
    uploadIncident = (await incidentOf('ticket_upload_failure_ratio'))!;
    expect(uploadIncident).toMatchObject({
      resource: a.id,
      severity: 'SEV3',
      category: 'data_integrity',
      orgs_affected: 1,
    });
    const impact = await t.http().get(`/api/ops/incidents/${uploadIncident.id}/impact`).set(ops).expect(200);
    expect(impact.body.orgs).toEqual([
      expect.objectContaining({ org_id: a.id, org_name: 'Signals Org A', features: ['payroll uploads'] }),
    ]);
  });

  it('org A sees it in customer terms; org B never sees it', async () => {
    const mine = await t.http().get('/api/incidents').set(a.headers).expect(200);
    expect(mine.body.items).toHaveLength(1);
    const seen = mine.body.items[0] as Record<string, unknown>;
    expect(seen).toMatchObject({
      id: uploadIncident.id,
      title: 'Ticket uploads rejected',
      severity: 'SEV3',
      status: 'triage',
      affected_features: ['payroll uploads'],
    });
    expect(Object.keys(seen).sort()).toEqual(
      ['affected_features', 'id', 'resolved_at', 'severity', 'started_at', 'status', 'title', 'updates'].sort(),
    );
    expect(JSON.stringify(seen)).not.toContain(a.id);
    await t.http().get(`/api/incidents/${uploadIncident.id}`).set(a.headers).expect(200);

    const theirs = await t.http().get('/api/incidents').set(b.headers).expect(200);
    expect(theirs.body.items).toEqual([]);
    const denied = await t.http().get(`/api/incidents/${uploadIncident.id}`).set(b.headers).expect(404);
    expect(JSON.stringify(denied.body)).not.toContain('Signals Org A');
    // RLS, not only the query: as org B the runtime role reads no impact row of org A, and writes none.
    expect(await asOrg(db.runtime, b.id, 'SELECT incident_id FROM incident_impacts')).toEqual([]);
    expect(await asOrg(db.runtime, a.id, 'SELECT incident_id FROM incident_impacts')).toEqual([
      { incident_id: uploadIncident.id },
    ]);
    await expect(asOrg(db.runtime, a.id, `UPDATE incident_impacts SET title = 'x'`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(asOrg(db.runtime, a.id, 'SELECT id FROM incidents')).rejects.toThrow(/permission denied/);
  });

  it("org A's webhook endpoint gets incident.opened; operators get a signed alert", async () => {
    await waitFor(() => receiver.count('tenant-a') >= 1, 20_000);
    const hit = receiver.hits.get('tenant-a')![0];
    expect(hit.verified).toEqual([true]);
    const event = JSON.parse(hit.body) as { type: string; org_id: string; data: Record<string, unknown> };
    expect(event).toMatchObject({ type: 'incident.opened', org_id: a.id });
    expect(event.data).toMatchObject({ incident_id: uploadIncident.id, title: 'Ticket uploads rejected' });
    expect(JSON.stringify(event.data)).not.toContain('ticket_upload_failure_ratio');

    await waitFor(() => opsAlerts('ops').some((e) => e.data.incident_id === uploadIncident.id), 20_000);
    const alert = receiver.hits.get('ops')!.find((h) => h.body.includes(uploadIncident.id))!;
    expect(alert.verified).toEqual([true]);
    expect(JSON.parse(alert.body)).toMatchObject({
      type: 'incident.opened',
      data: { severity: 'SEV3', category: 'data_integrity', signal: 'ticket_upload_failure_ratio' },
    });
  });

  it('a failing alert channel raises ops_alert_failures, which never alerts about itself', async () => {
    await waitFor(() => receiver.count('ops-broken') >= 1, 20_000);
    await tick();
    const [incident] = await incidentsOf('ops_alert_failures');
    expect(incident).toBeDefined();
    await new Promise((r) => setTimeout(r, 1500));
    expect(opsAlerts('ops').some((e) => e.data.signal === 'ops_alert_failures')).toBe(false);
  });

  it('a call queued with no agent in org B opens an availability incident for org B; its sweep is applied', async () => {
    await t
      .http()
      .post('/api/calls/inbound')
      .set(b.headers)
      .send({ from: '+15550001111', external_id: 'c-1' })
      .expect(201);
    await tick();
    const incident = (await incidentOf('calls_waiting_without_agents'))!;
    expect(incident).toMatchObject({ resource: b.id, category: 'availability', orgs_affected: 1 });
    const actions = await actionsOf(incident.id);
    expect(actions).toEqual([
      expect.objectContaining({ action: 'sessions.sweep_now', status: 'applied', params: { org_id: b.id } }),
    ]);
    const theirs = await t.http().get('/api/incidents').set(b.headers).expect(200);
    expect((theirs.body.items as { title: string }[]).map((i) => i.title)).toEqual(['Calls waiting without agents']);
    const mine = await t.http().get('/api/incidents').set(a.headers).expect(200);
    expect((mine.body.items as { id: string }[]).map((i) => i.id)).not.toContain(incident.id);

    // An agent comes online and takes the call: clear, then resolved after keep_firing_for_seconds.
    const agent = await t
      .http()
      .post('/api/sessions/agents')
      .set(b.headers)
      .send({ name: 'Agent', external_ref: 'ag-1' })
      .expect(201);
    await t
      .http()
      .post('/api/sessions/login')
      .set(b.headers)
      .send({ agent_id: agent.body.id, device_connected: true })
      .expect(201);
    await waitFor(async () => {
      const [row] = await sql<{ n: string }>(
        db.superuser,
        `SELECT count(*) AS n FROM calls WHERE org_id = $1 AND status = 'queued'`,
        [b.id],
      );
      return row.n === '0';
    });
    await tick();
    await new Promise((r) => setTimeout(r, 1100));
    const summary = await tick();
    expect(summary.resolved).toContain(incident.id);
    expect((await actionsOf(incident.id))[0].status).toBe('reverted');
  });

  it('a failing webhook receiver opens a dependency incident for its org and defers the endpoint until it ends', async () => {
    const ep = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(b.headers)
      .send({ url: receiver.url('failing'), event_types: ['webhook.test'] })
      .expect(201);
    for (let i = 0; i < 2; i++)
      await t.http().post(`/api/webhooks/endpoints/${ep.body.id}/test`).set(b.headers).expect(202);
    await waitFor(() => receiver.count('failing') >= 2, 20_000);
    await waitFor(async () => {
      const [row] = await sql<{ n: string }>(
        db.superuser,
        `SELECT count(*) AS n FROM webhook_delivery_log l JOIN webhook_deliveries d ON d.id = l.delivery_id WHERE d.endpoint_id = $1`,
        [ep.body.id],
      );
      return Number(row.n) >= 2;
    });
    await tick();
    const incident = (await incidentOf('webhook_failure_ratio'))!;
    expect(incident).toMatchObject({ resource: b.id, category: 'dependency', severity: 'SEV3' });
    const [deferred] = await actionsOf(incident.id);
    expect(deferred).toMatchObject({
      action: 'webhooks.defer_endpoint',
      status: 'applied',
      params: { org_id: b.id, endpoint_id: ep.body.id },
    });
    const open = await t.http().get(`/api/webhooks/endpoints/${ep.body.id}`).set(b.headers).expect(200);
    expect(open.body.breaker.state).toBe('open');

    // An operator calls it a false positive: cancelled, and the deferral is reverted.
    await t
      .http()
      .post(`/api/ops/incidents/${incident.id}/cancel`)
      .set(ops)
      .send({ note: 'receiver maintenance' })
      .expect(200);
    expect((await actionsOf(incident.id))[0].status).toBe('reverted');
    const closed = await t.http().get(`/api/webhooks/endpoints/${ep.body.id}`).set(b.headers).expect(200);
    expect(closed.body.breaker.state).toBe('closed');
  });

  it('a condition crossing its threshold 20 times gives one incident, marked flapping, that stops notifying', async () => {
    const before = opsAlerts('ops').length;
    const base = Date.now();
    for (let i = 0; i < 20; i++) {
      await t.app.get(IncidentDetector).evaluate({
        now: new Date(base + i * 1000),
        readings: [
          {
            signal: 'db_latency_ms',
            scope: 'process',
            resource: 'flappy-process',
            value: i % 2 === 0 ? 5000 : 1,
            measuredAt: new Date(base + i * 1000),
          },
        ],
      });
    }
    const rows = await incidentsOf('db_latency_ms');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'triage', flapping: true });
    await new Promise((r) => setTimeout(r, 1500));
    const about = opsAlerts('ops')
      .slice(before)
      .filter((e) => e.data.incident_id === rows[0].id);
    expect(about.map((e) => e.type)).toEqual(['incident.opened']);
    const rules = await t.http().get('/api/ops/rules').set(ops).expect(200);
    const db = (rules.body.items as { signal: string; stats: { flapped: number }; tuning: string[] }[]).find(
      (r) => r.signal === 'db_latency_ms',
    )!;
    expect(db.stats.flapped).toBe(1);
    expect(db.tuning.join(' ')).toMatch(/flapped 1 time/);
  });
});
