import { sql } from '../support';
import { sampleValue } from './support/hostile-values';
import { fillPath, Op } from './support/openapi';
import { createSecurityWorld, idFor, SecurityWorld, SeededOrg } from './support/world';

/**
 * Two orgs holding data in every feature. Org B, with its owner key, reaches for org A's
 * objects through every id-taking operation (404, nothing changed), and no list, export,
 * filter or webhook delivery of org B ever carries a trace of org A.
 */
describe('tenant isolation over every operation', () => {
  let world: SecurityWorld;

  beforeAll(async () => {
    world = await createSecurityWorld();
  }, 600_000);
  afterAll(async () => {
    await world?.close();
  });

  /** Bodies that pass validation, so a refusal comes from the lookup, not from the input. */
  const VALID_BODIES: Record<string, object> = {
    'PATCH /api/payroll/drivers/{id}': { name: 'Renamed' },
    'POST /api/sessions/{session_id}/heartbeat': { device_connected: true },
    'PUT /api/sessions/{session_id}/status': { status: 'away', reason: 'lunch' },
    'POST /api/calls/{call_id}/end': {},
    'PATCH /api/webhooks/endpoints/{id}': { description: 'taken over' },
    'POST /api/webhooks/endpoints/{id}/test': {},
    'POST /api/webhooks/endpoints/{id}/recover': { since: '2020-01-01T00:00:00Z' },
  };
  const bodyFor = (op: Op) => VALID_BODIES[op.name] ?? (op.jsonBody ? sampleValue(op.jsonBody) : undefined);
  const scoped = (op: Op) => !op.isPublic && !(op.op['x-required-scopes'] ?? []).includes('platform:admin');

  /** Every id, name and the org id of `org` that must never show up in another org's answers. */
  const tracesOf = (org: SeededOrg) => [
    org.id,
    ...Object.values(org.ids),
    'Security Org A',
    'Driver a',
    'Agent a',
    'T-a-1',
  ];

  function call(op: Op, org: SeededOrg, id: (name: string) => string, query = '') {
    const http = world.t.http();
    const req = http[op.method](`${fillPath(op.path, id)}${query}`).set(org.headers);
    const body = bodyFor(op);
    return op.method === 'get' || op.method === 'delete' || body === undefined ? req : req.send(body);
  }

  it("org B gets 404 for every one of org A's objects, and nothing of A changes", async () => {
    const failures: string[] = [];
    const idRoutes = world.ops.filter((op) => op.pathParams.length && scoped(op));
    for (const op of idRoutes) {
      const aId = idFor(world.a, op.path);
      if (!aId) {
        failures.push(`${op.name}: no seeded object of org A for this path (extend the world's seeds)`);
        continue;
      }
      const before = await world.fingerprint(world.a.id);
      const res = await call(op, world.b, () => aId);
      if (res.status !== 404) failures.push(`${op.name} by org B with A's id → ${res.status}`);
      else if (!/problem\+json/.test(String(res.headers['content-type'])))
        failures.push(`${op.name}: 404 not problem+json`);
      if ((await world.fingerprint(world.a.id)) !== before) failures.push(`${op.name} by org B changed org A's data`);
    }
    process.stdout.write(
      `tenancy: org B called ${idRoutes.length} id-taking operations with org A's ids, ${failures.length} failures\n`,
    );
    expect(idRoutes.length).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  it("no list, filter, cursor or export of org B carries org A's data", async () => {
    const traces = tracesOf(world.a);
    const leaks: string[] = [];
    let requests = 0;
    const reads = world.ops.filter((op) => op.method === 'get' && scoped(op));
    for (const op of reads) {
      const ownId = idFor(world.b, op.path);
      if (op.pathParams.length && !ownId) continue;
      const queries = ['', '?limit=200'];
      // Filters that take an id, pointed at org A's objects.
      for (const p of op.query.filter((q) => q.name.endsWith('_id'))) {
        for (const aId of Object.values(world.a.ids)) queries.push(`?${p.name}=${aId}`);
      }
      for (const query of queries) {
        const res = await call(op, world.b, () => ownId!, query);
        requests++;
        const text = res.text ?? JSON.stringify(res.body);
        const found = traces.filter((trace) => text.includes(trace));
        if (found.length) leaks.push(`${op.name}${query}: shows ${found.join(', ')}`);
        const next = (res.body as { next_cursor?: string } | undefined)?.next_cursor;
        if (next) {
          const page = await call(op, world.b, () => ownId!, `?cursor=${encodeURIComponent(next)}`);
          requests++;
          const leaked = traces.filter((trace) => page.text.includes(trace));
          if (leaked.length) leaks.push(`${op.name} next page: shows ${leaked.join(', ')}`);
        }
      }
    }
    process.stdout.write(
      `tenancy: ${requests} reads of org B over ${reads.length} operations (lists, filters at A's ids, next pages, exports), ${leaks.length} leaks\n`,
    );
    expect(reads.length).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  it("org B's webhook deliveries and events carry nothing of org A", async () => {
    const traces = tracesOf(world.a);
    const rows = await sql<{ text: string }>(
      world.db.superuser,
      `SELECT to_jsonb(d)::text AS text FROM webhook_deliveries d WHERE d.org_id = $1
       UNION ALL SELECT to_jsonb(e)::text FROM domain_events e WHERE e.org_id = $1`,
      [world.b.id],
    );
    expect(rows.length).toBeGreaterThan(0);
    const leaked = rows.flatMap((r) => traces.filter((trace) => r.text.includes(trace)));
    expect(leaked).toEqual([]);
  });
});
