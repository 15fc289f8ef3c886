import { randomUUID } from 'node:crypto';
import { DatabaseService } from '../../libs/database';
import { SCOPES } from '../../libs/auth';
import type { Scope } from '../../libs/auth';
import { ApiKeysService } from '../../src/orgs/api-keys.service';
import { createTestDatabase, createTestHttpApp, createTestOrg, TestDatabase, TestHttpApp, TestOrg } from '../support';

/**
 * The OpenAPI document is the contract outside clients generate code from: it must say what
 * the API does. Its security part is generated from the guard's own metadata; this file checks
 * the document's shape and then calls every operation to see the guard do what it says.
 */
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: unknown;
  allOf?: unknown[];
  oneOf?: unknown[];
  $ref?: string;
};
type Parameter = { name: string; in: string; required?: boolean };
interface Operation {
  operationId: string;
  summary?: string;
  security?: unknown[];
  parameters?: Parameter[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  'x-required-scopes'?: Scope[];
  'x-any-of-scopes'?: Scope[];
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];
const GRANTABLE = SCOPES.filter((s) => s !== 'platform:admin');

describe('OpenAPI document matches the API', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let doc: Doc;
  let ops: { method: Method; path: string; op: Operation }[];

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'api',
      env: { RATE_LIMIT_ENTERPRISE_PER_HOUR: '100000000', RATE_LIMIT_IP_PER_15_MIN: '100000' },
    });
    org = await createTestOrg(t.app, 'Contract Org', 'enterprise');
    doc = (await t.http().get('/docs-json').expect(200)).body as Doc;
    ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
    );
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const name = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;

  it('gives every operation a summary', () => {
    expect(ops.length).toBeGreaterThan(40);
    expect(ops.filter((o) => !o.op.summary?.trim()).map(name)).toEqual([]);
  });

  it('lists each header once; Idempotency-Key is optional', () => {
    const twice = ops.filter((o) => {
      const headers = (o.op.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name.toLowerCase());
      return new Set(headers).size !== headers.length;
    });
    expect(twice.map(name)).toEqual([]);
    const run = doc.paths['/api/payroll/run'].post.parameters ?? [];
    expect(run.filter((p) => p.name.toLowerCase() === 'idempotency-key')).toEqual([
      expect.objectContaining({ in: 'header', required: false }),
    ]);
  });

  it('types every schema property (no bare "object" standing for a string or a union)', () => {
    const vague: string[] = [];
    const visit = (schema: Schema | undefined, at: string) => {
      if (!schema) return;
      const shaped = schema.properties || schema.additionalProperties !== undefined || schema.allOf || schema.oneOf;
      if (schema.type === 'object' && !shaped && !schema.$ref) vague.push(at);
      for (const [key, child] of Object.entries(schema.properties ?? {})) visit(child, `${at}.${key}`);
      visit(schema.items, `${at}[]`);
    };
    for (const [key, schema] of Object.entries(doc.components.schemas)) visit(schema, key);
    expect(vague).toEqual([]);
    expect(doc.components.schemas.CreateDriverDto.properties?.external_ref).toMatchObject({
      type: 'string',
      nullable: true,
    });
  });

  it('public operations carry no lock; every other one names its scopes and documents 401 and 403', () => {
    const open = ops.filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0).map(name);
    expect(open).toEqual(
      expect.arrayContaining(['GET /health/live', 'GET /health/ready', 'POST /api/webhooks/inbound/{source_id}']),
    );
    for (const o of ops) {
      const isOpen = open.includes(name(o));
      const scopes = [...(o.op['x-required-scopes'] ?? []), ...(o.op['x-any-of-scopes'] ?? [])];
      expect({ op: name(o), scoped: scopes.length > 0 }).toEqual({ op: name(o), scoped: !isOpen });
      if (isOpen) continue;
      for (const status of ['401', '403']) {
        expect({
          op: name(o),
          status,
          problem: !!o.op.responses[status]?.content?.['application/problem+json'],
        }).toEqual({
          op: name(o),
          status,
          problem: true,
        });
      }
    }
  });

  describe('the guard enforces exactly the documented scopes', () => {
    const keys = new Map<string, string>();
    let platformKey: string;

    /** An org key holding exactly `scopes` (made once per set). */
    async function keyWith(scopes: Scope[]): Promise<string> {
      const id = [...scopes].sort().join(' ');
      if (!keys.has(id)) {
        const res = await t
          .http()
          .post('/api/api-keys')
          .set(org.headers)
          .send({ name: `contract ${keys.size}`, scopes })
          .expect(201);
        keys.set(id, res.body.api_key as string);
      }
      return keys.get(id)!;
    }

    const call = (o: { method: Method; path: string }, key?: string) => {
      const path = o.path.replace(/\{[^}]+\}/g, () => randomUUID());
      const req = t.http()[o.method](path);
      if (key) req.set('X-API-Key', key);
      return o.method === 'get' || o.method === 'delete' ? req : req.send({});
    };

    beforeAll(async () => {
      const keysService = t.app.get(ApiKeysService);
      platformKey = await t.app
        .get(DatabaseService)
        .system.transaction((m) => keysService.insertPlatformKey(m, 'contract', 'test'));
    });

    it('every scoped operation: 401 without credentials, 403 naming the scope one lacks, past the guard with exactly its scopes', async () => {
      const mismatches: string[] = [];
      let checked = 0;
      for (const o of ops) {
        const required = o.op['x-required-scopes'] ?? [];
        const anyOf = o.op['x-any-of-scopes'] ?? [];
        if (!required.length && !anyOf.length) continue;
        checked++;
        const anonymous = await call(o);
        if (anonymous.status !== 401) mismatches.push(`${name(o)} anonymous → ${anonymous.status}`);
        const platformOnly = required.includes('platform:admin');
        const orgRequired = required.filter((s) => s !== 'platform:admin');
        // Each documented scope is needed: a key with every other scope is refused, naming it.
        for (const scope of orgRequired) {
          const res = await call(o, await keyWith(GRANTABLE.filter((s) => s !== scope)));
          if (res.status !== 403 || !String(res.body.detail).includes(scope)) {
            mismatches.push(`${name(o)} without ${scope} → ${res.status} ${res.body.detail}`);
          }
        }
        if (anyOf.length) {
          const none = GRANTABLE.filter((s) => !anyOf.includes(s));
          const res = await call(o, await keyWith(none));
          if (res.status !== 403) mismatches.push(`${name(o)} with none of ${anyOf.join(',')} → ${res.status}`);
        }
        // And they are enough: exactly the documented scopes get past the guard.
        const enough = platformOnly
          ? platformKey
          : await keyWith(orgRequired.length ? orgRequired : [anyOf.find((s) => s !== 'platform:admin')!]);
        const passed = await call(o, enough);
        if (passed.status === 401 || passed.status === 403) {
          mismatches.push(`${name(o)} with exactly its scopes → ${passed.status} ${passed.body.detail}`);
        }
        if (!platformOnly && !anyOf.includes('platform:admin')) {
          const platform = await call(o, platformKey);
          if (platform.status !== 403) mismatches.push(`${name(o)} with a platform key → ${platform.status}`);
        }
      }
      expect(checked).toBeGreaterThan(40);
      expect(mismatches).toEqual([]);
    });
  });
});
