import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';
import { parsePrometheusText } from './fixtures/prometheus-text';

/**
 * Errors raised before any route runs — by the body parsers, or by Node's own HTTP parser —
 * are problem+json like every other error, carry the request id, and are counted.
 */
describe('errors before routing', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api', env: { HTTP_BODY_LIMIT: '2kb' } });
    org = await createTestOrg(t.app, 'Errors Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** Sends the bytes as they are (the client must not serialise a Buffer as JSON). */
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    t
      .http()
      .post('/api/payroll/drivers')
      .set(org.headers)
      .set(headers)
      .serialize((b: unknown) => b as string)
      .send(body);

  it.each([
    ['malformed JSON', { 'Content-Type': 'application/json' }, '{"name":', 400],
    [
      'a body over HTTP_BODY_LIMIT',
      { 'Content-Type': 'application/json' },
      JSON.stringify({ name: 'x'.repeat(5000) }),
      413,
    ],
    ['a broken gzip body', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, 'not gzip', 400],
    ['a broken brotli body', { 'Content-Type': 'application/json', 'Content-Encoding': 'br' }, 'not brotli', 400],
    ['an unknown encoding', { 'Content-Type': 'application/json', 'Content-Encoding': 'x-evil' }, '{}', 415],
    ['charset=utf-16', { 'Content-Type': 'application/json; charset=utf-16' }, Buffer.from('{"a":1}', 'utf16le'), 415],
  ])('%s: problem+json with the request id, echoed in X-Request-Id', async (_, headers, body, status) => {
    const res = await post({ ...headers, 'X-Request-Id': 'req-parser-1' }, body as string);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toBe('req-parser-1');
    expect(res.body).toMatchObject({ status, request_id: 'req-parser-1' });
    const generated = await post(headers, body as string);
    expect(generated.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers['x-request-id']).toBe(generated.body.request_id);
  });

  it('a gzip body that is valid is read', async () => {
    const body = gzipSync(JSON.stringify({ name: 'Zipped', pay_type: 'hourly', rate: '20' }));
    const res = await post({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body);
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Zipped');
  });

  it('counts parser refusals in http_request_duration_seconds', async () => {
    const count = async (status: string) => {
      const text = (await t.http().get('/metrics')).text;
      const family = parsePrometheusText(text).get('http_request_duration_seconds');
      return (family?.samples ?? [])
        .filter((s) => s.name === 'http_request_duration_seconds_count' && s.labels.status_code === status)
        .reduce((n, s) => n + s.value, 0);
    };
    const before = { 400: await count('400'), 413: await count('413') };
    await post({ 'Content-Type': 'application/json' }, '{"broken');
    await post({ 'Content-Type': 'application/json' }, JSON.stringify({ name: 'y'.repeat(5000) }));
    expect(await count('400')).toBe(before[400] + 1);
    expect(await count('413')).toBe(before[413] + 1);
  });

  /** Raw bytes on a socket: what no well-behaved client library would send. */
  async function raw(request: string): Promise<string> {
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      let out = '';
      socket.on('data', (c) => (out += c.toString()));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
  }

  it.each([
    ['a 20 KB header', `GET /api/orgs/me HTTP/1.1\r\nHost: x\r\nX-API-Key: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a NUL in a header', 'GET /api/orgs/me HTTP/1.1\r\nHost: x\r\nX-API-Key: ab\u0000cd\r\n\r\n', 400],
    ['a broken request line', 'GET /api orgs HTTP/9\r\n\r\n', 400],
  ])('%s: Node refuses it, as problem+json', async (_, request, status) => {
    const response = await raw(request);
    expect(response).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(response).toMatch(/Content-Type: application\/problem\+json/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { status: number };
    expect(body.status).toBe(status);
  });
});
