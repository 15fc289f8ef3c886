import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { OrgsService } from '../../src/orgs/orgs.service';

type Http = () => ReturnType<typeof request>;
type Method = 'get' | 'patch' | 'put' | 'delete' | 'post';

export interface TestOrg {
  id: string;
  apiKey: string;
  headers: Record<string, string>;
}

/** Creates an org with an owner key, as `task create-org` does. */
export async function createTestOrg(
  app: INestApplication,
  name = 'Test Org',
  plan: 'free' | 'pro' | 'enterprise' = 'pro',
): Promise<TestOrg> {
  const { org, apiKey } = await app
    .get(OrgsService)
    .create(name, plan, { actorType: 'system', actorId: 'test' }, { ownerKey: true });
  return { id: org.id, apiKey: apiKey!, headers: { 'X-API-Key': apiKey! } };
}

export interface IsolationCase {
  /** The resource of org A, e.g. `/api/api-keys/<id>`. */
  path: string;
  /** The id that must never appear in org B's responses. */
  id: string;
  /** Verbs the route really serves (so a 404 is the isolation, not a missing route). */
  methods: Method[];
  /** Body sent with PATCH/PUT/POST attempts. */
  body?: object;
  /** Org B's list endpoint(s) that must not show the id. */
  lists?: string[];
}

/**
 * The cross-tenant check every feature's e2e test runs: with org B's credentials, each org-A
 * resource answers 404 (never 403, which would confirm it exists) on every verb, never shows up
 * in org B's lists, and org A still sees it unchanged afterwards.
 */
export async function expectOrgIsolation(http: Http, a: TestOrg, b: TestOrg, cases: IsolationCase[]): Promise<void> {
  for (const c of cases) {
    const before = c.methods.includes('get') ? await http().get(c.path).set(a.headers) : undefined;
    if (before && before.status !== 200) {
      throw new Error(`control failed: org A cannot GET its own ${c.path} (${before.status})`);
    }
    for (const method of c.methods) {
      let req = http()[method](c.path).set(b.headers);
      if (c.body && ['patch', 'put', 'post'].includes(method)) req = req.send(c.body);
      const res = await req;
      if (res.status !== 404) {
        throw new Error(`org B got ${res.status} (expected 404) for ${method.toUpperCase()} ${c.path}: ${res.text}`);
      }
      if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
        throw new Error(`${method.toUpperCase()} ${c.path} by org B did not answer problem+json`);
      }
    }
    for (const list of c.lists ?? []) {
      const res = await http().get(list).set(b.headers);
      if (res.status !== 200) throw new Error(`org B could not list ${list}: ${res.status}`);
      if (res.text.includes(c.id)) throw new Error(`org B's ${list} shows org A's ${c.id}`);
    }
    if (before) {
      const after = await http().get(c.path).set(a.headers);
      if (after.status !== 200 || JSON.stringify(after.body) !== JSON.stringify(before.body)) {
        throw new Error(`org A's ${c.path} changed after org B's attempts`);
      }
    }
  }
}
