import { DataSource } from 'typeorm';
import { buildDataSourceOptions, DB_ROLES } from '../../libs/database';
import {
  createTestDatabase,
  dbEnv,
  freePort,
  readClusterState,
  runApp,
  spawnApp,
  sql,
  TestDatabase,
  waitFor,
  waitUntilReady,
} from '../support';
import { buildUrls } from '../../libs/database';

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('roles and migrations of the built application', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('task migrate applies every migration to an empty database, and the schema matches the entities', async () => {
    const state = readClusterState();
    const name = `empty_${process.pid}_${Date.now()}`;
    await sql(state.superuserUrl, `CREATE DATABASE ${name} OWNER ${DB_ROLES.owner}`);
    await sql(state.superuserUrl, `GRANT CREATE ON DATABASE ${name} TO ${DB_ROLES.systemLogin}`);
    const empty = buildUrls(state.host, state.port, name, state.passwords);
    try {
      const before = await runApp(['task', 'migrate:status'], dbEnv(empty));
      expect(before.code).toBe(1);
      expect(before.output).toMatch(/"pending":\["Foundation\d+"/);

      const migrate = await runApp(['task', 'migrate'], dbEnv(empty));
      expect(migrate.output).toMatch(/"applied":\["Foundation\d+"/);
      expect(migrate.code).toBe(0);

      const after = await runApp(['task', 'migrate:status'], dbEnv(empty));
      expect(after.code).toBe(0);
      expect(after.output).toContain('"pending":[]');

      const ds = new DataSource(buildDataSourceOptions({ url: empty.admin, applicationName: 'schema-check' }));
      await ds.initialize();
      try {
        const diff = await ds.driver.createSchemaBuilder().log();
        expect(diff.upQueries.map((q) => q.query)).toEqual([]);
      } finally {
        await ds.destroy();
      }
    } finally {
      await sql(state.superuserUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });

  it('an unknown task exits non-zero and lists the tasks', async () => {
    const res = await runApp(['task', 'no-such-task'], dbEnv(db));
    expect(res.code).toBe(2);
    expect(res.output).toContain('migrate:status');
  });

  it('worker role: serves only the probes on HEALTH_PORT, heartbeats, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const worker = spawnApp(['worker'], {
      ...dbEnv(db),
      HEALTH_PORT: String(port),
      WORKER_HEARTBEAT_INTERVAL_MS: '200',
    });
    try {
      await waitUntilReady(worker, `http://127.0.0.1:${port}/health/ready`);
      expect((await get(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      expect((await get(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      expect((await get(`http://127.0.0.1:${port}/docs-json`)).status).toBe(404);
      const rows = await waitFor(async () => {
        const r = await sql<{ pid: number; role: string }>(
          db.admin,
          `SELECT pid, role FROM worker_heartbeats WHERE pid = $1`,
          [worker.child.pid],
        );
        return r.length ? r : undefined;
      });
      expect(rows[0].role).toBe('worker');
    } finally {
      expect(await worker.stop('SIGTERM')).toBe(0);
    }
    const left = await sql(db.admin, `SELECT 1 FROM worker_heartbeats WHERE pid = $1`, [worker.child.pid]);
    expect(left).toHaveLength(0);
  });

  it('api role: serves HTTP, heartbeats as api, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const api = spawnApp(['api'], { ...dbEnv(db), PORT: String(port) });
    try {
      await waitUntilReady(api, `http://127.0.0.1:${port}/health/ready`);
      expect((await get(`http://127.0.0.1:${port}/docs-json`)).status).toBe(200);
      const rows = await waitFor(async () => {
        const r = await sql<{ role: string }>(db.admin, `SELECT role FROM worker_heartbeats WHERE pid = $1`, [
          api.child.pid,
        ]);
        return r.length ? r : undefined;
      });
      expect(rows[0].role).toBe('api');
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
  });

  it('APP_ROLE selects the role when no argument is given', async () => {
    const port = await freePort();
    const api = spawnApp([], { ...dbEnv(db), PORT: String(port), APP_ROLE: 'api' });
    try {
      await waitUntilReady(api, `http://127.0.0.1:${port}/health/live`);
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
  });

  it('refuses to start with invalid configuration, naming every bad variable', async () => {
    const res = await runApp(['api'], {
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x@y/z',
      LOG_LEVEL: 'loud',
    });
    expect(res.code).toBe(78);
    expect(res.output).toContain('PORT');
    expect(res.output).toContain('DATABASE_URL');
    expect(res.output).toContain('LOG_LEVEL');
  });

  it('production requires its secrets and an explicit CORS list', async () => {
    const res = await runApp(['task', 'config:check'], { NODE_ENV: 'production', CORS_ORIGINS: '*' });
    expect(res.code).toBe(78);
    for (const name of ['DATABASE_URL', 'DATABASE_SYSTEM_URL', 'CORS_ORIGINS']) expect(res.output).toContain(name);
    const ok = await runApp(['task', 'config:check'], {
      NODE_ENV: 'production',
      ...dbEnv(db),
      CORS_ORIGINS: 'https://ops.example.com',
    });
    expect(ok.code).toBe(0);
  });
});
