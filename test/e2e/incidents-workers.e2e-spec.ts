import { tmpdir } from 'node:os';
import request from 'supertest';
import { createTestDatabase, dbEnv, freePort, runApp, spawnApp, sql, TestDatabase, waitFor } from '../support';
import type { SpawnedApp } from '../support';

/**
 * "No worker is alive" is detected although detection normally runs on a worker: the api
 * process notices that nobody evaluated for three intervals and evaluates workers_alive
 * itself. A worker process is SIGKILLed; one SEV1 availability incident opens (once, however
 * many api evaluations follow); a new worker comes up, and the incident resolves after
 * keep_firing_for_seconds.
 */
describe('workers_alive across processes', () => {
  let db: TestDatabase;
  let api: SpawnedApp | undefined;
  let worker: SpawnedApp | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.stop();
    await db?.drop();
  });

  it('INCIDENT_THRESHOLDS naming an unknown signal stops the api with exit 78 and says which', async () => {
    const res = await runApp(['api'], {
      ...dbEnv(db),
      PORT: String(await freePort()),
      INCIDENT_THRESHOLDS: JSON.stringify({ disk_free_percent: { critical: 5 } }),
    });
    expect(res.code).toBe(78);
    expect(res.output).toMatch(/INCIDENT_THRESHOLDS: unknown signal "disk_free_percent"/);
  });

  it('a killed worker opens one SEV1 incident from the api process; a new worker resolves it', async () => {
    const port = await freePort();
    env = {
      ...dbEnv(db),
      PORT: String(port),
      HEALTH_SAMPLE_SECONDS: '1',
      HEALTH_DISK_PATH: tmpdir(),
      WORKER_HEARTBEAT_INTERVAL_MS: '300',
      INCIDENT_THRESHOLDS: JSON.stringify({ workers_alive: { for_seconds: 0, keep_firing_for_seconds: 1 } }),
    };
    const key = await runApp(['task', 'create-platform-key', '--name', 'ops'], env);
    expect(key.code).toBe(0);
    const ops = { 'X-API-Key': (JSON.parse(key.stdout) as { api_key: string }).api_key };

    api = spawnApp(['api'], env);
    worker = spawnApp(['worker'], { ...env, HEALTH_PORT: String(await freePort()) });
    const http = () => request(`http://127.0.0.1:${port}`);
    const workersAlive = async () => {
      const res = await http().get('/api/ops/health').set(ops);
      if (res.status !== 200) return null;
      return (res.body.signals as { signal: string; value: number | null }[]).find((s) => s.signal === 'workers_alive')
        ?.value;
    };
    expect(await waitFor(async () => (await workersAlive()) === 1, 60_000)).toBe(true);
    // The worker evaluates (cluster cron) while it lives.
    await waitFor(async () => {
      const [row] = await sql<{ n: string }>(
        db.superuser,
        `SELECT count(*) AS n FROM cluster_cron_ticks WHERE name = 'incidents.evaluate'`,
      );
      return Number(row.n) >= 2;
    }, 30_000);

    await worker.stop('SIGKILL');
    const killedAt = Date.now();
    const incident = await waitFor(async () => {
      const [row] = await sql<{ id: string; severity: string; category: string; status: string }>(
        db.superuser,
        `SELECT id, severity, category, status FROM incidents WHERE signal = 'workers_alive'`,
      );
      return row;
    }, 60_000);
    process.stdout.write(
      `incidents-workers: workers_alive incident opened ${Date.now() - killedAt} ms after SIGKILL\n`,
    );
    expect(incident).toMatchObject({ severity: 'SEV1', category: 'availability', status: 'triage' });
    expect(await workersAlive()).toBe(0);
    const [fallback] = await sql<{ n: string }>(
      db.superuser,
      `SELECT count(*) AS n FROM cluster_cron_ticks WHERE name = 'incidents.evaluate.fallback'`,
    );
    expect(Number(fallback.n)).toBeGreaterThanOrEqual(1);
    // More api evaluations, still one incident.
    await new Promise((r) => setTimeout(r, 2500));
    const [count] = await sql<{ n: string }>(
      db.superuser,
      `SELECT count(*) AS n FROM incidents WHERE signal = 'workers_alive'`,
    );
    expect(count.n).toBe('1');

    worker = spawnApp(['worker'], { ...env, HEALTH_PORT: String(await freePort()) });
    await waitFor(async () => {
      const [row] = await sql<{ status: string }>(db.superuser, `SELECT status FROM incidents WHERE id = $1`, [
        incident.id,
      ]);
      return row.status === 'resolved';
    }, 60_000);
    const [after] = await sql<{ n: string }>(
      db.superuser,
      `SELECT count(*) AS n FROM incidents WHERE signal = 'workers_alive'`,
    );
    expect(after.n).toBe('1');
  }, 180_000);
});
