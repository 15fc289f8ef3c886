import { tmpdir } from 'node:os';
import { DatabaseService } from '../../libs/database';
import { DB_ROLES } from '../../libs/database/database-roles';
import { QueueService } from '../../libs/queue';
import { OpenCriticalIncidents } from '../../src/incidents/critical-incidents.provider';
import { IncidentDetector } from '../../src/incidents/detection/incident-detector.service';
import { ProcessSampler } from '../../src/incidents/signals/process-sampler';
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import { createTestDatabase, createTestHttpApp, createTestOrg, sql, TestDatabase, TestHttpApp } from '../support';

/**
 * Cluster signals induced for real: the database refusing the api its table (every request on
 * it answers 500) moves http_5xx_ratio; a job nobody consumes moves
 * queue_oldest_waiting_seconds. Each opens one incident of its rule's category, and resolves
 * once the condition has cleared for keep_firing_for_seconds.
 */
const BASE = { HEALTH_SAMPLE_SECONDS: '3600', HEALTH_DISK_PATH: tmpdir(), RATE_LIMIT_PRO_PER_HOUR: '1000000' };

async function platformKey(t: TestHttpApp): Promise<Record<string, string>> {
  const keys = t.app.get(ApiKeysService);
  const key = await t.app.get(DatabaseService).system.transaction((m) => keys.insertPlatformKey(m, 'ops', 'test'));
  return { 'X-API-Key': key };
}

describe('incidents from cluster signals', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('5xx from a failing dependency: http_5xx_ratio rises, one availability incident, resolved after recovery', async () => {
    const t = await createTestHttpApp({
      db,
      env: {
        ...BASE,
        INCIDENT_THRESHOLDS: JSON.stringify({
          http_5xx_ratio: { warning: null, critical: 0.3, for_seconds: 0, keep_firing_for_seconds: 1 },
        }),
      },
    });
    try {
      const ops = await platformKey(t);
      const org = await createTestOrg(t.app, '5xx Org');
      const tick = async () => {
        await t.app.get(ProcessSampler).sample();
        return t.app.get(IncidentDetector).evaluate();
      };
      await tick();
      await sql(db.superuser, `REVOKE SELECT ON payroll_drivers FROM ${DB_ROLES.runtimeGroup}`);
      for (let i = 0; i < 10; i++) await t.http().get('/api/payroll/drivers').set(org.headers).expect(500);
      await tick();
      const health = await t.http().get('/api/ops/health').set(ops).expect(200);
      const ratio = (health.body.signals as { signal: string; value: number; state: string }[]).find(
        (s) => s.signal === 'http_5xx_ratio',
      )!;
      expect(ratio.state).toBe('critical');
      expect(ratio.value).toBeGreaterThan(0.3);
      const [incident] = await sql<{ id: string; severity: string; category: string; status: string }>(
        db.superuser,
        `SELECT id, severity, category, status FROM incidents WHERE signal = 'http_5xx_ratio'`,
      );
      expect(incident).toMatchObject({ severity: 'SEV2', category: 'availability', status: 'triage' });

      // The database serves the table again; successes bring the ratio under the threshold.
      await sql(db.superuser, `GRANT SELECT ON payroll_drivers TO ${DB_ROLES.runtimeGroup}`);
      for (let i = 0; i < 30; i++) await t.http().get('/api/payroll/drivers').set(org.headers).expect(200);
      await tick();
      await new Promise((r) => setTimeout(r, 1100));
      const summary = await tick();
      expect(summary.resolved).toEqual([incident.id]);
      const rows = await sql<{ n: string }>(
        db.superuser,
        `SELECT count(*) AS n FROM incidents WHERE signal = 'http_5xx_ratio'`,
      );
      expect(rows[0].n).toBe('1');
    } finally {
      await t.close();
    }
  });

  it('a stalled queue: queue_oldest_waiting_seconds names the queue, and clears once the job is gone', async () => {
    // The api role consumes no queue: a job sent here waits until a worker takes it.
    const t = await createTestHttpApp({
      db,
      role: 'api',
      env: {
        ...BASE,
        INCIDENT_THRESHOLDS: JSON.stringify({
          queue_oldest_waiting_seconds: { warning: 30, critical: 60, for_seconds: 0, keep_firing_for_seconds: 1 },
        }),
      },
    });
    try {
      const ops = await platformKey(t);
      const jobId = await t.app.get(QueueService).send('incidents.ops-alert', { stalled: true });
      await sql(
        db.superuser,
        `UPDATE pgboss.job SET created_on = now() - interval '5 minutes', start_after = now() - interval '5 minutes'
         WHERE id = $1`,
        [jobId],
      );
      const detector = t.app.get(IncidentDetector);
      await detector.evaluate();
      const health = await t.http().get('/api/ops/health').set(ops).expect(200);
      const age = (health.body.signals as { signal: string; resource: string; value: number; state: string }[]).find(
        (s) => s.signal === 'queue_oldest_waiting_seconds' && s.resource === 'incidents.ops-alert',
      )!;
      expect(age.value).toBeGreaterThanOrEqual(299);
      expect(age.state).toBe('critical');
      const [incident] = await sql<{ id: string; severity: string; category: string; resource: string }>(
        db.superuser,
        `SELECT id, severity, category, resource FROM incidents WHERE signal = 'queue_oldest_waiting_seconds'`,
      );
      expect(incident).toMatchObject({ severity: 'SEV2', category: 'capacity', resource: 'incidents.ops-alert' });
      // A critical capacity incident is what payroll's gate asks about.
      const gate = t.app.get(OpenCriticalIncidents);
      expect(await gate.openCriticalIncidents()).toEqual([
        expect.stringMatching(/^SEV2 queue_oldest_waiting_seconds critical/),
      ]);

      await sql(db.superuser, `DELETE FROM pgboss.job WHERE id = $1`, [jobId]);
      await detector.evaluate();
      await new Promise((r) => setTimeout(r, 1100));
      const summary = await detector.evaluate();
      expect(summary.resolved).toEqual([incident.id]);
      expect(await gate.openCriticalIncidents()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
