import type { IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkTargetUrl, HostResolver, resolveChecked, SsrfBlockedError } from './ssrf-guard';

/** At most this much of a response body is read; the socket is destroyed after it. */
export const MAX_RESPONSE_BODY_BYTES = 2048;

/**
 * Why an attempt got no HTTP response: `ssrf_blocked` (the URL or ANY address its host
 * resolved to at connect time is not allowed), `timeout`, or `connection_error` (DNS failure,
 * refused, reset, TLS…). A response of any status, 3xx included, is not an error.
 */
export type OutboundErrorClass = 'ssrf_blocked' | 'timeout' | 'connection_error';

export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    readonly errorClass: OutboundErrorClass,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PostJsonOptions {
  /** Whole attempt: connect, send, response headers and the (capped) body. */
  timeoutMs: number;
  allowLoopback: boolean;
  allowHttp: boolean;
  /** Host resolver (default dns.lookup with all: true); tests inject one. */
  lookup?: HostResolver;
}

export interface PostJsonResult {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The first MAX_RESPONSE_BODY_BYTES bytes of the body, decoded as UTF-8, NUL shown as U+FFFD. */
  bodyPrefix: string;
  latencyMs: number;
}

/**
 * A net/tls lookup that resolves, refuses the host if ANY address is non-public, and hands
 * the socket only the addresses it checked, so the connection cannot go elsewhere (no second
 * resolution, no DNS rebinding between check and connect). Runs on every connection.
 */
export function guardedLookup(allowLoopback: boolean, resolver?: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    const cb = callback as (err: Error | null, address: unknown, family?: number) => void;
    resolveChecked(hostname, allowLoopback, resolver).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const list = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
        if (!list.length) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return cb(err, options.all ? [] : '', 0);
        }
        if (options.all) return cb(null, list);
        cb(null, list[0].address, list[0].family);
      },
      (err: Error) => cb(err, options.all ? [] : '', 0),
    );
  };
}

/** Kept-alive connections per origin: at most this many at once to one origin (more wait for a free one). */
const SOCKETS_PER_ORIGIN = 32;
/** An idle kept connection is closed after this long (below common server keep-alive timeouts). */
const IDLE_SOCKET_MS = 2000;
/** Origins with a pool; the least recently used pool is closed beyond this. */
const MAX_POOLS = 256;
const pools = new Map<string, http.Agent>();

function agentFor(target: URL, allowLoopback: boolean): http.Agent {
  const key = `${target.protocol}//${target.host}|${allowLoopback}`;
  let agent = pools.get(key);
  if (agent) {
    pools.delete(key);
  } else {
    const options = { keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN, maxFreeSockets: 8, timeout: IDLE_SOCKET_MS };
    agent = target.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    if (pools.size >= MAX_POOLS) {
      const [oldest] = pools.keys();
      pools.get(oldest)?.destroy();
      pools.delete(oldest);
    }
  }
  pools.set(key, agent);
  return agent;
}

function classify(err: unknown): OutboundError {
  if (err instanceof OutboundError) return err;
  if (err instanceof SsrfBlockedError) return new OutboundError('ssrf_blocked', err.reason, { cause: err });
  const e = err as { code?: string; message?: string };
  const message = [e.code, e.message].filter(Boolean).join(': ') || 'connection failed';
  return new OutboundError('connection_error', message, { cause: err });
}

/**
 * POSTs `body` (JSON text) to `url` once. Redirects are not followed (a 3xx is returned as
 * it is). Rejects with OutboundError when no response arrived.
 */
export function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: PostJsonOptions,
): Promise<PostJsonResult> {
  const check = checkTargetUrl(url, { allowHttp: opts.allowHttp, allowLoopback: opts.allowLoopback });
  if (!check.ok) return Promise.reject(new OutboundError('ssrf_blocked', check.reason));
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const started = performance.now();

  return new Promise<PostJsonResult>((resolve, reject) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (err: unknown) =>
      finish(() => {
        req?.destroy();
        reject(classify(err));
      });
    const timer = setTimeout(
      () => fail(new OutboundError('timeout', `no complete response within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );

    try {
      req = transport.request(target, {
        method: 'POST',
        // Sockets are kept alive per origin; each new connection resolves and checks its host
        // (the lookup below), and a kept socket stays connected to the address that was checked.
        // An injected resolver (tests) gets a fresh connection every time.
        agent: opts.lookup ? false : agentFor(target, opts.allowLoopback),
        lookup: guardedLookup(opts.allowLoopback, opts.lookup),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CalmOps-Webhooks/1.0',
          ...headers,
          'content-length': String(Buffer.byteLength(body)),
          ...(opts.lookup ? { connection: 'close' } : {}),
        },
      });
    } catch (err) {
      fail(err);
      return;
    }

    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // A response read to its end leaves its socket to the pool; any other ending closes it.
      const done = (complete = false) =>
        finish(() => {
          if (!complete) {
            res.destroy();
            req?.destroy();
          }
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            // PostgreSQL text cannot hold NUL: a receiver's NUL bytes would make the attempt log
            // (and with it the whole batch's record) fail, so they are shown as U+FFFD.
            bodyPrefix: Buffer.concat(chunks).toString('utf8').replaceAll('\u0000', '\uFFFD'),
            latencyMs: Math.round(performance.now() - started),
          });
        });
      res.on('data', (chunk: Buffer) => {
        const room = MAX_RESPONSE_BODY_BYTES - size;
        if (room > 0) {
          const part = chunk.subarray(0, room);
          chunks.push(part);
          size += part.length;
        }
        if (size >= MAX_RESPONSE_BODY_BYTES) done();
      });
      res.on('end', () => done(true));
      // The status arrived; a body cut short still counts as that response.
      res.on('error', () => done());
      res.on('aborted', () => done());
    });
    req.end(body);
  });
}
