import { tmpdir } from 'node:os';
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import { DatabaseService } from '../../libs/database';
import { IncidentDetector } from '../../src/incidents/detection/incident-detector.service';
import { ProcessSampler } from '../../src/incidents/signals/process-sampler';
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

/**
 * Disk usage above a (lowered) critical threshold: one capacity incident, SEV2, with payroll
 * dispatch paused by its safe action and payroll's gate refusing to start a run; a restart
 * with the threshold back to normal clears the condition, the incident resolves after
 * keep_firing_for_seconds, the pause is reverted and the waiting run completes. Operators'
 * transitions are validated (409), and the postmortem is drafted from the records.
 */
const QUIET = {
  // The test drives sampling and evaluation itself: the timers never fire during it.
  HEALTH_SAMPLE_SECONDS: '3600',
  PAYROLL_POLL_INTERVAL_MS: '100',
  RATE_LIMIT_PRO_PER_HOUR: '1000000',
  HEALTH_DISK_PATH: tmpdir(),
};
const DISK_CRITICAL = JSON.stringify({
  disk_used_percent: { warning: null, critical: 1, for_seconds: 0, keep_firing_for_seconds: 1 },
});
const DISK_NORMAL = JSON.stringify({ disk_used_percent: { keep_firing_for_seconds: 1 } });

interface IncidentBody {
  id: string;
  signal: string;
  severity: string;
  category: string;
  status: string;
  level: string;
  orgs_affected: number;
}

describe('incidents: detection, safe action, payroll gate, resolution, transitions, postmortem', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let ops: Record<string, string>;

  const tick = async () => {
    await t.app.get(ProcessSampler).sample();
    return t.app.get(IncidentDetector).evaluate();
  };
  const diskIncidents = async () =>
    sql<{ id: string; status: string }>(
      db.superuser,
      `SELECT id, status FROM incidents WHERE signal = 'disk_used_percent' ORDER BY opened_at`,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, env: { ...QUIET, INCIDENT_THRESHOLDS: DISK_CRITICAL } });
    org = await createTestOrg(t.app, 'Disk Org');
    const keys = t.app.get(ApiKeysService);
    const key = await t.app.get(DatabaseService).system.transaction((m) => keys.insertPlatformKey(m, 'ops', 'test'));
    ops = { 'X-API-Key': key };
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  let incidentId: string;
  let runId: string;

  it('the health view measures the disk and shows it critical under the lowered threshold', async () => {
    await tick();
    const res = await t.http().get('/api/ops/health').set(ops).expect(200);
    const disk = (res.body.signals as { signal: string; state: string; value: number; critical: number }[]).find(
      (s) => s.signal === 'disk_used_percent',
    )!;
    expect(disk.value).toBeGreaterThan(1);
    expect(disk.value).toBeLessThanOrEqual(100);
    expect(disk.critical).toBe(1);
    expect(disk.state).toBe('critical');
    expect(res.body.state).toBe('critical');
    // Every signal of the catalog is listed, measured or unknown with its reason.
    const names = new Set((res.body.signals as { signal: string }[]).map((s) => s.signal));
    for (const s of ['memory_rss_percent', 'event_loop_lag_ms', 'db_latency_ms', 'db_pool_waiting', 'workers_alive']) {
      expect(names).toContain(s);
    }
  });

  it('opens one capacity incident, SEV2, whatever the number of evaluations', async () => {
    await tick();
    await tick();
    const rows = await diskIncidents();
    expect(rows).toHaveLength(1);
    incidentId = rows[0].id;
    const res = await t.http().get(`/api/ops/incidents/${incidentId}`).set(ops).expect(200);
    const body = res.body as IncidentBody;
    expect(body).toMatchObject({
      signal: 'disk_used_percent',
      severity: 'SEV2',
      category: 'capacity',
      level: 'critical',
    });
    expect(body.status).toBe('triage');
    const list = await t.http().get('/api/ops/incidents?status=triage&severity=SEV2').set(ops).expect(200);
    expect((list.body.items as IncidentBody[]).map((i) => i.id)).toContain(incidentId);
  });

  it('applies its safe action (payroll dispatch paused), visible on the incident', async () => {
    const rec = await t.http().get(`/api/ops/incidents/${incidentId}/recommendations`).set(ops).expect(200);
    const action = (rec.body.actions as { action: string; status: string; automatic: boolean }[]).find(
      (a) => a.action === 'payroll.pause_dispatch',
    );
    expect(action).toMatchObject({ status: 'applied', automatic: true });
    const timeline = await t.http().get(`/api/ops/incidents/${incidentId}/timeline`).set(ops).expect(200);
    const kinds = (timeline.body.items as { kind: string }[]).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['detected', 'metric_snapshot', 'action_applied']));
    const [control] = await sql<{ incident_pause_reason: string }>(
      db.superuser,
      `SELECT incident_pause_reason FROM payroll_control WHERE id = 1`,
    );
    expect(control.incident_pause_reason).toBe(`incident ${incidentId}`);
  });

  it("payroll's gate refuses to start a run while the critical capacity incident is open", async () => {
    const driver = await t
      .http()
      .post('/api/payroll/drivers')
      .set(org.headers)
      .send({ name: 'D', pay_type: 'per_load', rate: '100', external_ref: 'd-1' })
      .expect(201);
    await t
      .http()
      .post('/api/payroll/tickets')
      .set(org.headers)
      .send({ tickets: [{ ticket_number: 'T-1', driver_id: driver.body.id, work_date: '2025-03-03', loads: '2' }] })
      .expect(201);
    const run = await t
      .http()
      .post('/api/payroll/run')
      .set(org.headers)
      .send({ pay_period_start: '2025-03-01', pay_period_end: '2025-03-31' })
      .expect(202);
    runId = run.body.job_id;
    const reason = await waitFor(async () => {
      const [c] = await sql<{ gate_reason: string | null }>(
        db.superuser,
        `SELECT gate_reason FROM payroll_control WHERE id = 1`,
      );
      return c.gate_reason;
    });
    expect(reason).toMatch(/^incident: critical incident open \(SEV2 /);
    // Several dispatcher passes later the run still waits.
    const passes = await sql<{ n: string }>(
      db.superuser,
      `SELECT count(*) AS n FROM payroll_runs WHERE status = 'queued'`,
    );
    expect(passes[0].n).toBe('1');
    await new Promise((r) => setTimeout(r, 500));
    const job = await t.http().get(`/api/payroll/jobs/${runId}`).set(org.headers).expect(200);
    expect(job.body.status).toBe('queued');
  });

  it('refuses transitions out of order with 409 problem+json', async () => {
    const close = await t.http().post(`/api/ops/incidents/${incidentId}/close`).set(ops).send({}).expect(409);
    expect(close.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(close.body.detail).toMatch(/triage/);
    await t.http().post(`/api/ops/incidents/${incidentId}/ack`).set(ops).send({}).expect(200);
    await t.http().post(`/api/ops/incidents/${incidentId}/ack`).set(ops).send({}).expect(409);
    await t.http().get(`/api/ops/incidents/${incidentId}/postmortem`).set(ops).expect(409);
    await t
      .http()
      .post(`/api/ops/incidents/${incidentId}/notes`)
      .set(ops)
      .send({ text: 'disk filling with exports' })
      .expect(201);
    const mitigated = await t.http().post(`/api/ops/incidents/${incidentId}/mitigate`).set(ops).send({}).expect(200);
    expect(mitigated.body.status).toBe('mitigated');
  });

  it('resolves after keep_firing_for_seconds once the condition clears; the pause is reverted and the run starts', async () => {
    await t.close();
    t = await createTestHttpApp({ db, env: { ...QUIET, INCIDENT_THRESHOLDS: DISK_NORMAL } });
    const first = await tick();
    expect(first.resolved).toEqual([]);
    expect((await diskIncidents())[0].status).toBe('mitigated');
    await new Promise((r) => setTimeout(r, 1100));
    const second = await tick();
    expect(second.resolved).toEqual([incidentId]);
    expect((await diskIncidents())[0].status).toBe('resolved');

    const rec = await t.http().get(`/api/ops/incidents/${incidentId}/recommendations`).set(ops).expect(200);
    expect(rec.body.actions).toEqual([
      expect.objectContaining({ action: 'payroll.pause_dispatch', status: 'reverted' }),
    ]);
    const [control] = await sql<{ incident_pause_reason: string | null }>(
      db.superuser,
      `SELECT incident_pause_reason FROM payroll_control WHERE id = 1`,
    );
    expect(control.incident_pause_reason).toBeNull();
    await waitFor(async () => {
      const job = await t.http().get(`/api/payroll/jobs/${runId}`).set(org.headers);
      return ['completed', 'completed_with_flags'].includes(job.body.status);
    }, 60_000);
  });

  it('drafts the postmortem (JSON and Markdown) and keeps the lessons on close', async () => {
    const pm = await t.http().get(`/api/ops/incidents/${incidentId}/postmortem`).set(ops).expect(200);
    expect(pm.body.timings.time_to_detect_seconds).toBeGreaterThanOrEqual(0);
    expect(pm.body.timings.time_to_resolve_seconds).toBeGreaterThanOrEqual(1);
    expect(pm.body.actions).toEqual([
      expect.objectContaining({ action: 'payroll.pause_dispatch', automatic: true, status: 'reverted' }),
    ]);
    expect(pm.body.series.length).toBeGreaterThanOrEqual(3);
    expect(pm.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['detected', 'note', 'state_changed', 'action_reverted']),
    );
    const md = await t.http().get(`/api/ops/incidents/${incidentId}/postmortem?format=markdown`).set(ops).expect(200);
    expect(md.headers['content-type']).toMatch(/^text\/markdown/);
    expect(md.text).toContain('# Postmortem: disk_used_percent critical');
    expect(md.text).toContain('disk filling with exports');

    await t
      .http()
      .post(`/api/ops/incidents/${incidentId}/close`)
      .set(ops)
      .send({ note: 'alert on free space earlier' })
      .expect(200);
    const closed = await t.http().get(`/api/ops/incidents/${incidentId}/postmortem`).set(ops).expect(200);
    expect(closed.body.lessons).toBe('alert on free space earlier');
    await t.http().post(`/api/ops/incidents/${incidentId}/cancel`).set(ops).send({}).expect(409);
  });

  it('the rules show what fired, with statistics', async () => {
    const res = await t.http().get('/api/ops/rules').set(ops).expect(200);
    const disk = (
      res.body.items as { signal: string; stats: Record<string, number>; keep_firing_for_seconds: number }[]
    ).find((r) => r.signal === 'disk_used_percent')!;
    expect(disk.keep_firing_for_seconds).toBe(1);
    expect(disk.stats.fired).toBe(1);
    expect(disk.stats.median_seconds_to_resolve).toBeGreaterThanOrEqual(1);
  });

  it('tenants, and keys without platform:admin, cannot reach the operator routes', async () => {
    await t.http().get('/api/ops/incidents').set(org.headers).expect(403);
    await t.http().get('/api/ops/health').set(org.headers).expect(403);
  });
});
