import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BODY_BYTES, OutboundError, postJson } from './outbound-http';
import type { HostResolver } from './ssrf-guard';

interface Hit {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('postJson', () => {
  let server: http.Server;
  let port: number;
  const hits: Hit[] = [];
  const DEV = { timeoutMs: 2000, allowLoopback: true, allowHttp: true };
  const STRICT = { timeoutMs: 2000, allowLoopback: false, allowHttp: true };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hits.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
        } else if (req.url === '/hang') {
          // never answers
        } else if (req.url === '/nul') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('a\u0000b');
        } else if (req.url === '/big') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(1024 * 1024));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (hits.length = 0));

  const errorClassOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundError);
      return (err as OutboundError).errorClass;
    }
    throw new Error('expected a rejection');
  };

  it('POSTs JSON to a local server when private targets are allowed', async () => {
    const res = await postJson(`http://127.0.0.1:${port}/hook`, '{"a":1}', { 'webhook-id': 'msg_1' }, DEV);
    expect(res.statusCode).toBe(200);
    expect(res.bodyPrefix).toBe('{"ok":true}');
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ method: 'POST', url: '/hook', body: '{"a":1}' });
    expect(hits[0].headers['content-type']).toBe('application/json');
    expect(hits[0].headers['webhook-id']).toBe('msg_1');
  });

  it('refuses the same target when private targets are not allowed', async () => {
    expect(await errorClassOf(postJson(`http://127.0.0.1:${port}/hook`, '{}', {}, STRICT))).toBe('ssrf_blocked');
    expect(await errorClassOf(postJson(`http://[::ffff:127.0.0.1]:${port}/`, '{}', {}, STRICT))).toBe('ssrf_blocked');
    expect(await errorClassOf(postJson(`http://localhost:${port}/`, '{}', {}, STRICT))).toBe('ssrf_blocked');
    expect(hits).toHaveLength(0);
  });

  it('checks what a host name resolves to at connect time, on every attempt', async () => {
    let calls = 0;
    const lookup: HostResolver = (host) => {
      calls += 1;
      return Promise.resolve(host === 'evil.example' ? [{ address: '127.0.0.1', family: 4 }] : []);
    };
    const url = `http://evil.example:${port}/hook`;
    expect(await errorClassOf(postJson(url, '{}', {}, { ...STRICT, lookup }))).toBe('ssrf_blocked');
    expect(await errorClassOf(postJson(url, '{}', {}, { ...STRICT, lookup }))).toBe('ssrf_blocked');
    expect(calls).toBe(2);
    expect(hits).toHaveLength(0);
    // With private targets allowed it connects to exactly the checked address.
    const ok = await postJson(url, '{}', {}, { ...DEV, lookup });
    expect(ok.statusCode).toBe(200);
    expect(hits[0].headers.host).toBe(`evil.example:${port}`);
  });

  it('with loopback allowed, refuses at connect time a host that resolves to link-local or metadata space', async () => {
    const lookup: HostResolver = (host) =>
      Promise.resolve(
        host === 'meta.example'
          ? [{ address: '169.254.169.254', family: 4 }]
          : [{ address: 'fd00:ec2::254', family: 6 }],
      );
    for (const url of [`http://meta.example:${port}/latest`, `http://ec2.example:${port}/latest`]) {
      expect(await errorClassOf(postJson(url, '{}', {}, { ...DEV, lookup }))).toBe('ssrf_blocked');
    }
    expect(await errorClassOf(postJson('http://169.254.169.254/latest', '{}', {}, DEV))).toBe('ssrf_blocked');
    expect(hits).toHaveLength(0);
  });

  it('refuses a host when ANY of its addresses is private', async () => {
    const lookup: HostResolver = () =>
      Promise.resolve([
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ]);
    expect(await errorClassOf(postJson('http://mixed.example/', '{}', {}, { ...STRICT, lookup }))).toBe('ssrf_blocked');
  });

  it('returns a redirect as its status without following it', async () => {
    const res = await postJson(`http://127.0.0.1:${port}/redirect`, '{}', {}, DEV);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toContain('/target');
    expect(hits.map((h) => h.url)).toEqual(['/redirect']);
  });

  it('times out', async () => {
    const started = Date.now();
    expect(await errorClassOf(postJson(`http://127.0.0.1:${port}/hang`, '{}', {}, { ...DEV, timeoutMs: 200 }))).toBe(
      'timeout',
    );
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('reads at most 2 KB of the body', async () => {
    const res = await postJson(`http://127.0.0.1:${port}/big`, '{}', {}, DEV);
    expect(res.statusCode).toBe(200);
    expect(Buffer.byteLength(res.bodyPrefix)).toBe(MAX_RESPONSE_BODY_BYTES);
  });

  it('classifies refused connections and failed lookups as connection_error', async () => {
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const closedPort = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
    expect(await errorClassOf(postJson(`http://127.0.0.1:${closedPort}/`, '{}', {}, DEV))).toBe('connection_error');
    const nothing: HostResolver = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(await errorClassOf(postJson('https://missing.example/', '{}', {}, { ...STRICT, lookup: nothing }))).toBe(
      'connection_error',
    );
  });

  it('refuses http when https is required', async () => {
    const opts = { ...DEV, allowHttp: false };
    expect(await errorClassOf(postJson(`http://127.0.0.1:${port}/hook`, '{}', {}, opts))).toBe('ssrf_blocked');
  });

  it('keeps a connection alive per origin: consecutive POSTs reuse one socket', async () => {
    const sockets = new Set<unknown>();
    const count = (req: http.IncomingMessage) => sockets.add(req.socket);
    server.on('request', count);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await postJson(`http://127.0.0.1:${port}/keep`, '{}', {}, DEV);
        expect(res.statusCode).toBe(200);
      }
      expect(hits).toHaveLength(5);
      expect(sockets.size).toBe(1);
    } finally {
      server.off('request', count);
    }
  });

  it('checks each new pooled connection at connect time: a name resolving to loopback is refused without loopback', async () => {
    // "localhost" passes the URL check (it is a name) and is refused when it resolves.
    expect(await errorClassOf(postJson(`http://localhost:${port}/pooled`, '{}', {}, STRICT))).toBe('ssrf_blocked');
    expect(hits).toHaveLength(0);
  });

  it('shows NUL bytes of a response body as U+FFFD (PostgreSQL text cannot store them)', async () => {
    const res = await postJson(`http://127.0.0.1:${port}/nul`, '{}', {}, DEV);
    expect(res.bodyPrefix).toBe('a\uFFFDb');
  });
});
