import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditEntry, AuditEventView, AuditService, GENESIS_HASH } from '../../libs/audit';
import { DatabaseService, NoTenantContextError, TenantContext } from '../../libs/database';
import { createTestDatabase, createTestHttpApp, runApp, sql, TestDatabase, TestHttpApp } from '../support';

/** Runs statements in one session of `url` with `app.current_org` set, as the application does. */
async function asOrg<T = Record<string, unknown>>(url: string, org: string, ...statements: string[]): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SELECT set_config('app.current_org', $1, false)`, [org]);
    let rows: T[] = [];
    for (const statement of statements) rows = (await client.query(statement)).rows as T[];
    return rows;
  } finally {
    await client.end();
  }
}

/** The JSON line a task printed as its result. */
function taskResult(output: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.startsWith('{"ok"'));
  if (!line) throw new Error(`no task result in output:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

const entry = (action: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  action,
  actorType: 'user',
  actorId: 'u-1',
  ...extra,
});

describe('audit log', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let audit: AuditService;
  let tenant: TenantContext;

  const chainOf = (org: string) =>
    sql<{ id: string; seq: string; at: Date; prev_hash: string; hash: string }>(
      db.system,
      'SELECT id, seq, at, prev_hash, hash FROM audit_events WHERE org_id = $1 ORDER BY seq',
      [org],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'api' });
    audit = t.app.get(AuditService);
    tenant = t.app.get(TenantContext);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('keeps one chain per org numbered 1..n, in tenant transactions and on the system connection', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const system = t.app.get(DatabaseService).system;
    const views: AuditEventView[] = [];
    views.push(await tenant.run(a, () => audit.record(entry('thing.created', { data: { n: 1 } }))));
    views.push(await system.transaction((m) => audit.record(entry('org.created', { actorType: 'system' }), m, b)));
    views.push(await tenant.run(a, () => audit.record(entry('thing.updated', { targetType: 'thing', targetId: 't' }))));
    // A manager outside a transaction is given one, so the append lock still holds.
    views.push(await audit.record(entry('org.renamed', { actorType: 'system' }), system.manager, b));
    views.push(await tenant.run(a, () => audit.record(entry('thing.deleted', { requestId: 'req-1' }))));

    for (const [org, count] of [
      [a, 3],
      [b, 2],
    ] as const) {
      const rows = await chainOf(org);
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(rows[0].prev_hash).toBe(GENESIS_HASH);
      for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
      expect(await audit.verify(org)).toEqual({ ok: true, count });
    }
    const stored = new Map((await chainOf(a)).concat(await chainOf(b)).map((r) => [r.id, r]));
    for (const v of views) {
      expect(stored.get(v.id)?.hash).toBe(v.hash);
      expect(stored.get(v.id)?.at.toISOString()).toBe(v.at);
    }
  });

  it('serializes concurrent appends to one org: 20 at once give seq 1..20 and a valid chain', async () => {
    const org = randomUUID();
    const views = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tenant.run(org, () => audit.record(entry('burst.hit', { data: { i } })))),
    );
    expect(views.map((v) => v.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await chainOf(org)).map((r) => Number(r.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await audit.verify(org)).toEqual({ ok: true, count: 20 });
    // Pages that split the chain, and a page size that divides it exactly, give the same answer.
    expect(await audit.verify(org, { pageSize: 7 })).toEqual({ ok: true, count: 20 });
    expect(await audit.verify(org, { pageSize: 10 })).toEqual({ ok: true, count: 20 });
  });

  it('leaves no audit row behind when the transaction it was recorded in rolls back', async () => {
    const org = randomUUID();
    await expect(
      tenant.run(org, async () => {
        await audit.record(entry('thing.created'));
        throw new Error('the change failed after it was audited');
      }),
    ).rejects.toThrow('the change failed');
    expect(await chainOf(org)).toEqual([]);
    const next = await tenant.run(org, () => audit.record(entry('thing.created')));
    expect(next).toMatchObject({ seq: 1, prev_hash: GENESIS_HASH });
  });

  it('refuses to record outside a tenant context without an explicit manager', async () => {
    await expect(audit.record(entry('thing.created'))).rejects.toThrow(NoTenantContextError);
  });

  it('lets neither application role change or remove an event', async () => {
    const org = randomUUID();
    await tenant.run(org, () => audit.record(entry('secret.read')));
    // The runtime role sees the row (so RLS is not what stops it), but lacks the privileges.
    expect(await asOrg(db.runtime, org, 'SELECT seq FROM audit_events')).toEqual([{ seq: '1' }]);
    for (const url of [db.runtime, db.system]) {
      await expect(asOrg(url, org, `UPDATE audit_events SET action = 'nothing.happened'`)).rejects.toThrow(
        /permission denied/,
      );
      await expect(asOrg(url, org, 'DELETE FROM audit_events')).rejects.toThrow(/permission denied/);
      await expect(asOrg(url, org, 'TRUNCATE audit_events')).rejects.toThrow(/permission denied/);
    }
    expect(await sql(db.system, 'SELECT action FROM audit_events WHERE org_id = $1', [org])).toEqual([
      { action: 'secret.read' },
    ]);
    expect(await audit.verify(org)).toEqual({ ok: true, count: 1 });
  });

  it('detects an owner who disables the trigger to rewrite history, and the task exits 1 naming the seq', async () => {
    const [tampered, intact] = [randomUUID(), randomUUID()];
    for (const org of [tampered, intact]) {
      for (const amount of [100, 200, 300]) {
        await tenant.run(org, () => audit.record(entry('payout.approved', { data: { amount } })));
      }
    }
    const update = `UPDATE audit_events SET data = '{"amount": 20000}' WHERE seq = 2`;
    await expect(asOrg(db.admin, tampered, update)).rejects.toThrow('audit_events is append-only');
    await expect(asOrg(db.admin, tampered, 'DELETE FROM audit_events WHERE seq = 3')).rejects.toThrow(
      'audit_events is append-only',
    );
    await expect(asOrg(db.admin, tampered, 'TRUNCATE audit_events')).rejects.toThrow('audit_events is append-only');
    expect(await audit.verify(tampered)).toEqual({ ok: true, count: 3 });

    try {
      await asOrg(db.admin, tampered, 'ALTER TABLE audit_events DISABLE TRIGGER USER', update);
    } finally {
      await sql(db.admin, 'ALTER TABLE audit_events ENABLE TRIGGER USER');
    }
    const [row2] = await sql<{ id: string; data: unknown }>(
      db.system,
      'SELECT id, data FROM audit_events WHERE org_id = $1 AND seq = 2',
      [tampered],
    );
    expect(row2.data).toEqual({ amount: 20000 });
    expect(await audit.verify(tampered)).toEqual({ ok: false, broken_at_seq: 2, id: row2.id, reason: 'hash mismatch' });
    expect(await audit.verify(intact)).toEqual({ ok: true, count: 3 });

    const env = { DATABASE_URL: db.runtime, DATABASE_ADMIN_URL: db.admin, DATABASE_SYSTEM_URL: db.system };
    const [broken, ok, missing, malformed] = await Promise.all([
      runApp(['task', 'audit-verify', '--org', tampered], env),
      runApp(['task', 'audit-verify', '--org', intact], env),
      runApp(['task', 'audit-verify'], env),
      runApp(['task', 'audit-verify', '--org', 'not-a-uuid'], env),
    ]);
    expect(broken.code).toBe(1);
    expect(taskResult(broken.output)).toEqual({ ok: false, broken_at_seq: 2, id: row2.id, reason: 'hash mismatch' });
    expect(ok.code).toBe(0);
    expect(taskResult(ok.output)).toEqual({ ok: true, count: 3 });
    for (const res of [missing, malformed]) {
      expect(res.code).toBe(1);
      expect(taskResult(res.output)).toEqual({ ok: false, message: '--org <uuid> is required' });
    }
  });

  describe('list()', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const ofA: AuditEventView[] = [];
    const seqs = (items: AuditEventView[]) => items.map((i) => i.seq);
    const newestFirst = (items: AuditEventView[]) => seqs([...items].sort((x, y) => y.seq - x.seq));
    const listA = (filters: Parameters<AuditService['list']>[0]) => tenant.run(a, () => audit.list(filters));

    beforeAll(async () => {
      for (let i = 1; i <= 12; i++) {
        const even = i % 2 === 0;
        ofA.push(
          await tenant.run(a, () =>
            audit.record(
              entry(i % 3 === 0 ? 'api_key.revoked' : 'api_key.created', {
                actorType: even ? 'api_key' : 'user',
                actorId: even ? 'k-1' : 'u-1',
                targetType: i % 4 === 0 ? 'org' : 'api_key',
                targetId: `t-${i % 5}`,
                data: { i },
              }),
            ),
          ),
        );
        // Distinct timestamps make the since/until window meaningful.
        await new Promise((r) => setTimeout(r, 3));
      }
      for (let i = 1; i <= 4; i++) {
        await tenant.run(b, () => audit.record(entry('api_key.created', { targetId: i === 4 ? 'b-only' : `t-${i}` })));
      }
    });

    it("returns the current org's events newest first, in snake_case", async () => {
      const page = await listA({});
      expect(seqs(page.items)).toEqual(newestFirst(ofA));
      expect(page.next_cursor).toBeNull();
      // Exactly what record() returned: the same snake_case fields and values.
      expect(page.items[0]).toEqual(ofA[11]);
    });

    it('pages through every event exactly once with the cursor', async () => {
      const pages: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await listA({ limit: 5, cursor });
        pages.push(seqs(page.items));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(pages).toEqual([
        [12, 11, 10, 9, 8],
        [7, 6, 5, 4, 3],
        [2, 1],
      ]);
    });

    it('filters by each field, by a time window, and by several at once while paging', async () => {
      const cases: [Parameters<AuditService['list']>[0], (e: AuditEventView) => boolean][] = [
        [{ action: 'api_key.revoked' }, (e) => e.action === 'api_key.revoked'],
        [{ actor_type: 'api_key' }, (e) => e.actor_type === 'api_key'],
        [{ actor_id: 'u-1' }, (e) => e.actor_id === 'u-1'],
        [{ target_type: 'org' }, (e) => e.target_type === 'org'],
        [{ target_id: 't-2' }, (e) => e.target_id === 't-2'],
        [{ since: ofA[3].at, until: ofA[8].at }, (e) => e.at >= ofA[3].at && e.at < ofA[8].at],
        [
          { action: 'api_key.created', actor_type: 'user' },
          (e) => e.action === 'api_key.created' && e.actor_id === 'u-1',
        ],
      ];
      for (const [filters, match] of cases) {
        const expected = newestFirst(ofA.filter(match));
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(ofA.length);
        expect(seqs((await listA(filters)).items)).toEqual(expected);
        const walked: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await listA({ ...filters, limit: 2, cursor });
          walked.push(...seqs(page.items));
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        expect(walked).toEqual(expected);
      }
    });

    it("never returns another org's events", async () => {
      expect((await listA({ target_id: 'b-only' })).items).toEqual([]);
      const ofB = await tenant.run(b, () => audit.list({}));
      expect(seqs(ofB.items)).toEqual([4, 3, 2, 1]);
      expect(ofB.items.every((e) => e.org_id === b)).toBe(true);
      expect((await listA({})).items.every((e) => e.org_id === a)).toBe(true);
    });

    it('rejects a cursor it did not issue and needs a tenant context', async () => {
      await expect(listA({ cursor: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ status: 400 });
      await expect(listA({ cursor: '!!' })).rejects.toThrow(/cursor/);
      await expect(audit.list({})).rejects.toThrow(NoTenantContextError);
    });
  });

  it('documents GET /api/audit with its snake_case query parameters', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    const op = (res.body as { paths: Record<string, { get?: { parameters: { name: string }[] } }> }).paths['/api/audit']
      ?.get;
    expect(op?.parameters.map((p) => p.name).sort()).toEqual(
      ['action', 'actor_id', 'actor_type', 'cursor', 'limit', 'since', 'target_id', 'target_type', 'until'].sort(),
    );
  });
});
