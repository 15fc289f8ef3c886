import SwaggerParser from '@apidevtools/swagger-parser';
import { spawnSync } from 'node:child_process';
import { createTestDatabase, createTestHttpApp, TestDatabase, TestHttpApp } from '../support';
import { FixtureModule } from './fixtures/fixture.module';
import { parsePrometheusText } from './fixtures/prometheus-text';

describe('platform HTTP behaviour', () => {
  let db: TestDatabase;
  let t: TestHttpApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', imports: [FixtureModule], env: { HTTP_BODY_LIMIT: '1kb' } });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  function expectProblem(
    res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
    status: number,
  ) {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//), title: expect.any(String) });
    expect(typeof res.body.detail).toBe('string');
    expect(typeof res.body.instance).toBe('string');
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  }

  it('answers an unknown route with 404 problem+json', async () => {
    const res = await t.http().get('/api/nothing-here');
    expectProblem(res, 404);
    expect(res.body.instance).toBe('/api/nothing-here');
  });

  it('answers malformed JSON with 400', async () => {
    const res = await t.http().post('/test/echo').set('Content-Type', 'application/json').send('{"name": "x",');
    expectProblem(res, 400);
  });

  it('answers a validation failure with 400 and errors[] naming each field', async () => {
    const res = await t.http().post('/test/echo').send({ name: '', count: 'many', org_id: 'x' });
    expectProblem(res, 400);
    const fields = (res.body.errors as { field: string; message: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['count', 'name', 'org_id']));
    for (const e of res.body.errors as { message: string }[]) expect(e.message.length).toBeGreaterThan(0);
  });

  it('accepts a valid body', async () => {
    const res = await t.http().post('/test/echo').send({ name: 'truck', count: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'truck', count: 3 });
  });

  it('answers a body over HTTP_BODY_LIMIT with 413', async () => {
    const res = await t
      .http()
      .post('/test/echo')
      .send({ name: 'x'.repeat(4096), count: 1 });
    expectProblem(res, 413);
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await t.http().post('/test/echo').set('Content-Type', 'application/xml').send('<a/>');
    expectProblem(res, 415);
  });

  it('answers an unexpected error with 500 and no internals', async () => {
    const res = await t.http().get('/test/boom');
    expectProblem(res, 500);
    expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
    expect(res.body.stack).toBeUndefined();
  });

  it('echoes a given X-Request-Id and generates one otherwise', async () => {
    const given = await t.http().get('/health/live').set('X-Request-Id', 'req-abc.123');
    expect(given.headers['x-request-id']).toBe('req-abc.123');
    const generated = await t.http().get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await t.http().get('/health/live').set('X-Request-Id', 'bad id with spaces <script>');
    expect(hostile.headers['x-request-id']).not.toContain('<');
  });

  it('sends helmet headers and hides the framework', async () => {
    const res = await t.http().get('/health/live');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('serves a valid OpenAPI 3 document with both security schemes', async () => {
    const res = await t.http().get('/docs-json');
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['api-key', 'bearer']);
    const ui = await t.http().get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('exposes Prometheus metrics including the HTTP histogram after a request', async () => {
    await t.http().get('/api/nothing-here');
    await t.http().post('/test/echo').send({ name: 'a', count: 1 });
    const res = await t.http().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const families = parsePrometheusText(res.text);
    const histogram = families.get('http_request_duration_seconds');
    expect(histogram?.type).toBe('histogram');
    expect(
      histogram?.samples.some(
        (s) =>
          s.name === 'http_request_duration_seconds_count' &&
          s.labels.route === '/test/echo' &&
          s.labels.method === 'POST' &&
          s.labels.status_code === '200' &&
          s.value >= 1,
      ),
    ).toBe(true);
    expect(histogram?.samples.some((s) => s.labels.route === 'unmatched' && s.labels.status_code === '404')).toBe(true);
    expect(families.get('process_cpu_seconds_total')?.type).toBe('counter');
    expect(families.has('queue_jobs_total')).toBe(true);
    // The reference checker, where installed (.ci/run installs it): no lint problems at all.
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    if (promtool.error) {
      expect((promtool.error as NodeJS.ErrnoException).code).toBe('ENOENT');
    } else {
      expect(promtool.stdout + promtool.stderr).toBe('');
      expect(promtool.status).toBe(0);
    }
  });
});
