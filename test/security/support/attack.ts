import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  FORGED_CURSORS,
  HOSTILE_NUMBERS,
  HOSTILE_STRINGS,
  HOSTILE_UUIDS,
  hostileFor,
  MASS_ASSIGNMENT,
  sampleValue,
} from './hostile-values';
import { fillPath, Op, OpenApiDoc, resolve, Schema } from './openapi';
import type { SecurityWorld } from './world';

/** One hostile request: what to change relative to a plain call of the operation. */
export interface Variant {
  label: string;
  pathParam?: (name: string) => string;
  query?: string;
  body?: unknown;
  raw?: { contentType: string; data: string | Buffer; encoding?: string };
}

function bodyVariants(doc: OpenApiDoc, schema: Schema): Variant[] {
  const base = sampleValue(schema) as Record<string, unknown>;
  const out: Variant[] = [];
  for (const [field, raw] of Object.entries(schema.properties ?? {})) {
    const prop = resolve(doc, raw);
    for (const value of hostileFor(prop))
      out.push({ label: `body.${field}=${describe(value)}`, body: { ...base, [field]: value } });
    const item = prop.type === 'array' && prop.items ? resolve(doc, prop.items) : undefined;
    for (const [inner, innerRaw] of Object.entries(item?.properties ?? {})) {
      const values = hostileFor(resolve(doc, innerRaw));
      for (const value of values) {
        const row = { ...(sampleValue(item!) as object), [inner]: value };
        out.push({ label: `body.${field}[0].${inner}=${describe(value)}`, body: { ...base, [field]: [row] } });
      }
    }
  }
  out.push({ label: 'mass assignment', body: { ...base, ...MASS_ASSIGNMENT } });
  for (const whole of [[], 'text', 0, null, [base]]) out.push({ label: `body=${describe(whole)}`, body: whole });
  return out;
}

const json = (data: string) => ({ contentType: 'application/json', data });
const RAW_BODIES: Variant[] = [
  { label: 'malformed JSON', raw: json('{"a":') },
  { label: 'JSON with a trailing comma', raw: json('{"a":1,}') },
  { label: '5,000 levels of nesting', raw: json(`${'['.repeat(5000)}${']'.repeat(5000)}`) },
  {
    label: 'invalid UTF-8',
    raw: { contentType: 'application/json', data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
  },
  { label: 'broken gzip', raw: { ...json('not gzip at all'), encoding: 'gzip' } },
  { label: 'broken br', raw: { ...json('not brotli'), encoding: 'br' } },
  { label: 'broken deflate', raw: { ...json('not deflate'), encoding: 'deflate' } },
  { label: 'unknown encoding', raw: { ...json('{}'), encoding: 'x-evil' } },
  {
    label: 'charset=utf-16',
    raw: { contentType: 'application/json; charset=utf-16', data: Buffer.from('{"a":1}', 'utf16le') },
  },
  { label: 'XML', raw: { contentType: 'application/xml', data: '<a>1</a>' } },
  { label: 'text/plain JSON', raw: { contentType: 'text/plain', data: '{"a":1}' } },
  { label: 'multipart', raw: { contentType: 'multipart/form-data; boundary=x', data: '--x\r\n\r\n--x--' } },
];

function queryVariants(op: Op): Variant[] {
  return op.query.flatMap((p) => {
    const values: unknown[] =
      p.name === 'cursor'
        ? FORGED_CURSORS
        : p.schema?.type === 'number' || p.schema?.type === 'integer' || p.name === 'limit'
          ? HOSTILE_NUMBERS
          : p.schema?.format === 'uuid' || p.name.endsWith('_id')
            ? HOSTILE_UUIDS
            : HOSTILE_STRINGS.slice(0, 14);
    const one = values.map((v) => ({
      label: `query.${p.name}=${describe(v)}`,
      query: `${p.name}=${percentEncoded(String(v))}`,
    }));
    return [
      ...one,
      { label: `query.${p.name} twice`, query: `${p.name}=1&${p.name}=2` },
      { label: `query.${p.name} as invalid UTF-8`, query: `${p.name}=%FF%C0%AF` },
      { label: `query.${p.name} with a broken escape`, query: `${p.name}=%E0%A4%A` },
    ];
  });
}

/** Every byte percent-encoded (a lone surrogate becomes U+FFFD's bytes, as a client would send). */
function percentEncoded(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function pathVariants(op: Op): Variant[] {
  return op.pathParams.flatMap((name) =>
    HOSTILE_UUIDS.map((v) => ({
      label: `path.${name}=${describe(v)}`,
      pathParam: (n: string) => (n === name ? v : randomUUID()),
    })),
  );
}

export function variantsOf(doc: OpenApiDoc, op: Op): Variant[] {
  const takesBody = op.method !== 'get' && op.method !== 'delete';
  return [
    ...pathVariants(op),
    ...queryVariants(op),
    ...(op.jsonBody ? bodyVariants(doc, op.jsonBody) : []),
    ...(takesBody ? RAW_BODIES : []),
    ...(takesBody && !op.jsonBody
      ? [{ label: 'a JSON body where none is expected', body: { ...MASS_ASSIGNMENT } }]
      : []),
  ];
}

function describe(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return s.length > 40 ? `${s.slice(0, 37)}…(${s.length})` : s;
}

/** The credential that gets an operation past the guard: none, the platform key, or org A's owner key. */
export function credentialFor(world: SecurityWorld, op: Op): Record<string, string> {
  if (op.isPublic) return {};
  if ((op.op['x-required-scopes'] ?? []).includes('platform:admin')) return { 'X-API-Key': world.platformKey };
  return world.a.headers;
}

export async function send(
  world: SecurityWorld,
  op: Op,
  v: Variant,
  headers: Record<string, string>,
): Promise<Response> {
  const path = fillPath(op.path, v.pathParam ?? (() => randomUUID()));
  const url = v.query ? `${path}?${v.query}` : path;
  const req = world.t.http()[op.method](url).set(headers);
  if (v.raw) {
    req.set('Content-Type', v.raw.contentType);
    if (v.raw.encoding) req.set('Content-Encoding', v.raw.encoding);
    return req.send(v.raw.data);
  }
  if (v.body !== undefined) return req.set('Content-Type', 'application/json').send(JSON.stringify(v.body));
  if (op.method !== 'get' && op.method !== 'delete' && op.jsonBody) return req.send(sampleValue(op.jsonBody) as object);
  return req;
}

/** What a refused request must look like: a 4xx problem+json whose status matches. */
export function problemShapeError(res: Response): string | undefined {
  if (res.status >= 500) return `answered ${res.status}: ${String(res.body?.detail ?? res.text).slice(0, 120)}`;
  if (res.status < 400) return undefined;
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) {
    return `${res.status} as ${res.headers['content-type']}, not problem+json`;
  }
  if (res.body?.status !== res.status) return `${res.status} with a problem whose status is ${res.body?.status}`;
  return undefined;
}
