import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createProbeServer } from '../../src/bootstrap/worker-app';
import { createTestDatabase, createTestHttpApp, createTestWorker, TestDatabase } from '../support';

const PRODUCTION = { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com', SHUTDOWN_DELAY_MS: '0' };

/**
 * /metrics and readiness details name the database role, RLS state, queues and versions: in
 * production they are for operators holding METRICS_TOKEN, on the api port and on the worker's
 * probe port alike. The probes themselves keep working for anyone (status code and status).
 */
describe('operator detail: /metrics and readiness details', () => {
  let db: TestDatabase;
  const token = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('production without METRICS_TOKEN: /metrics is 401 for everyone, readiness shows its status alone', async () => {
    const t = await createTestHttpApp({ db, role: 'api', env: PRODUCTION });
    try {
      const metrics = await t.http().get('/metrics');
      expect(metrics.status).toBe(401);
      expect(metrics.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(metrics.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(metrics.text).not.toMatch(/calmops_|nodejs_/);
      const guessed = await t
        .http()
        .get('/metrics')
        .set('Authorization', `Bearer ${'x'.repeat(40)}`);
      expect(guessed.status).toBe(401);
      const ready = await t.http().get('/health/ready').expect(200);
      expect(ready.body).toEqual({ status: 'ok' });
    } finally {
      await t.close();
    }
  });

  it('production with METRICS_TOKEN: the bearer reads both; anyone else gets 401 and the bare status', async () => {
    const t = await createTestHttpApp({ db, role: 'api', env: { ...PRODUCTION, METRICS_TOKEN: token } });
    try {
      expect((await t.http().get('/metrics')).status).toBe(401);
      expect((await t.http().get('/metrics').set('Authorization', `Bearer ${token}x`)).status).toBe(401);
      expect((await t.http().get('/metrics').set('X-API-Key', token)).status).toBe(401);
      const metrics = await t.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
      expect(metrics.text).toMatch(/^# HELP /m);
      expect((await t.http().get('/health/ready')).body).toEqual({ status: 'ok' });
      const detailed = await t.http().get('/health/ready').set('Authorization', `Bearer ${token}`).expect(200);
      expect(detailed.body.info).toMatchObject({ rls: { status: 'up', runtime_role: 'calmops_app' } });
    } finally {
      await t.close();
    }
  });

  it("the worker's probe port applies the same rule", async () => {
    const worker = await createTestWorker({ db, env: { ...PRODUCTION, METRICS_TOKEN: token } });
    const probes: Server = createProbeServer(worker);
    await new Promise<void>((resolve) => probes.listen(0, '127.0.0.1', resolve));
    const http = () => request(`http://127.0.0.1:${(probes.address() as AddressInfo).port}`);
    try {
      expect((await http().get('/health/ready').expect(200)).body).toEqual({ status: 'ok' });
      const detailed = await http().get('/health/ready').set('Authorization', `Bearer ${token}`).expect(200);
      expect(Object.keys(detailed.body.info as object)).toEqual(expect.arrayContaining(['database', 'rls']));
      expect((await http().get('/health/live')).status).toBe(200);
    } finally {
      await new Promise((resolve) => probes.close(resolve));
      await worker.close();
    }
  });

  it('outside production without a token both stay open (development)', async () => {
    const t = await createTestHttpApp({ db, role: 'api' });
    try {
      await t.http().get('/metrics').expect(200);
      const ready = await t.http().get('/health/ready').expect(200);
      expect(ready.body.info).toBeDefined();
    } finally {
      await t.close();
    }
  });
});
