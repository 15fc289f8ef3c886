import { randomUUID } from 'node:crypto';
import { TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { ClusterCronService } from '../../libs/queue';
import { REDRIVE_SQL } from '../../src/webhooks/jobs/deliver-webhook.job';
import { createTestDatabase, createTestHttpApp, createTestOrg, expectOrgIsolation, sql, waitFor } from '../support';
import type { TestDatabase, TestHttpApp, TestOrg } from '../support';
import { Receiver } from './fixtures/webhook-receiver';
import { Webhook } from 'standardwebhooks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbound webhook deliveries', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    db = await createTestDatabase();
    t = await createTestHttpApp({
      db,
      role: 'all',
      env: {
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOKS_ALLOW_HTTP: 'true',
        WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms',
        WEBHOOK_RETRY_JITTER: '0',
        WEBHOOK_BREAKER_COOLDOWN_SECONDS: '2',
        QUEUE_POLL_INTERVAL_SECONDS: '0.5',
        EVENTS_RELAY_INTERVAL_MS: '100',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await new Promise((resolve) => receiver.server?.close(resolve));
  });

  async function endpoint(org: TestOrg, name: string): Promise<{ id: string; secret: string }> {
    const res = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: receiver.url(name), event_types: ['payroll.run.completed'] });
    expect(res.status).toBe(201);
    const body = res.body as { id: string; secret: string };
    receiver.secrets.set(name, [body.secret]);
    return body;
  }

  function publish(org: TestOrg, data: Record<string, unknown> = { run_id: randomUUID(), status: 'completed' }) {
    return t.app.get(TenantContext).run(org.id, () => t.app.get(EventPublisher).publish('payroll.run.completed', data));
  }

  async function deliveryOf(org: TestOrg, endpointId: string, status: string) {
    const res = await t.http().get(`/api/webhooks/deliveries?endpoint_id=${endpointId}`).set(org.headers);
    expect(res.status).toBe(200);
    const items = (res.body as { items: { id: string; status: string; attempts: number }[] }).items;
    return items.find((d) => d.status === status);
  }

  async function detail(org: TestOrg, id: string) {
    const res = await t.http().get(`/api/webhooks/deliveries/${id}`).set(org.headers);
    expect(res.status).toBe(200);
    type Attempt = { attempt: number; status_code: number | null; error_class: string | null };
    return res.body as { status: string; attempts: number; attempt_log: Attempt[] };
  }

  it('(a) signs each delivery so the reference verifier accepts it, and rejects a tampered body', async () => {
    const org = await createTestOrg(t.app, 'A');
    const ep = await endpoint(org, 'a');
    const eventId = await publish(org, { run_id: 'r-1', status: 'completed', totals: { net_cents: 12345 } });
    await waitFor(() => receiver.count('a') >= 1, 15000);
    const [hit] = receiver.hits.get('a')!;
    expect(hit.verified).toEqual([true]);
    expect(hit.headers['webhook-id']).toBe(eventId);
    expect(hit.headers['content-type']).toBe('application/json');
    const envelope = JSON.parse(hit.body) as Record<string, unknown>;
    expect(Object.keys(envelope)).toEqual(['id', 'type', 'created_at', 'org_id', 'data']);
    expect(envelope).toMatchObject({ id: eventId, type: 'payroll.run.completed', org_id: org.id });
    expect(envelope.data).toEqual({ run_id: 'r-1', status: 'completed', totals: { net_cents: 12345 } });

    const wh = new Webhook(ep.secret);
    const headers = hit.headers as Record<string, string>;
    expect(() => wh.verify(hit.body, headers)).not.toThrow();
    expect(() => wh.verify(hit.body.replace('12345', '99999'), headers)).toThrow();

    const d = await waitFor(() => deliveryOf(org, ep.id, 'succeeded'));
    const full = await detail(org, d.id);
    expect(full.attempt_log).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error_class: null })]);

    // Replay: same webhook-id, the attempt count continues.
    const again = await t.http().post(`/api/webhooks/deliveries/${d.id}/redeliver`).set(org.headers);
    expect(again.status).toBe(202);
    await waitFor(() => receiver.count('a') >= 2, 15000);
    expect(receiver.hits.get('a')![1].headers['webhook-id']).toBe(eventId);
    expect(receiver.hits.get('a')![1].verified).toEqual([true]);
    await waitFor(
      async () =>
        (await detail(org, d.id)).attempt_log.length === 2 && (await detail(org, d.id)).status === 'succeeded',
    );
  });

  it('(b) retries on the schedule: 500 three times then 200 is delivered on attempt 4 with one webhook-id', async () => {
    const org = await createTestOrg(t.app, 'B');
    receiver.behaviour.set('b', (n) => (n < 3 ? 500 : 200));
    const ep = await endpoint(org, 'b');
    const eventId = await publish(org);
    const d = await waitFor(() => deliveryOf(org, ep.id, 'succeeded'), 20000);
    const full = await detail(org, d.id);
    expect(full.attempts).toBe(4);
    expect(full.attempt_log.map((a) => [a.attempt, a.status_code, a.error_class])).toEqual([
      [1, 500, 'http_500'],
      [2, 500, 'http_500'],
      [3, 500, 'http_500'],
      [4, 200, null],
    ]);
    const hits = receiver.hits.get('b')!;
    expect(hits).toHaveLength(4);
    expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(hits.every((h) => h.verified[0])).toBe(true);
  });

  it('(c) opens the breaker after 3 failures: nothing while open, then exactly one probe', async () => {
    const org = await createTestOrg(t.app, 'C');
    receiver.behaviour.set('c', () => 500);
    const ep = await endpoint(org, 'c');
    await publish(org);
    await publish(org);
    await waitFor(async () => {
      const res = await t.http().get(`/api/webhooks/endpoints/${ep.id}`).set(org.headers);
      return (res.body as { breaker: { state: string } }).breaker.state === 'open';
    }, 15000);
    const breakerOpenedAt = async () =>
      (
        await sql<{ opened_at: Date }>(
          db.superuser,
          `SELECT breaker_opened_at AS opened_at FROM webhook_endpoints WHERE id = $1`,
          [ep.id],
        )
      )[0].opened_at;
    const openedAt = await breakerOpenedAt();
    expect(await waitFor(() => deliveryOf(org, ep.id, 'deferred'), 10000)).toBeDefined();
    const metrics = await t.http().get('/metrics');
    expect(metrics.text).toMatch(/webhook_breakers\{state="open"\} [1-9]/);

    // Cooldown (2 s) over: one probe goes; it fails, so the breaker opens again for 2 s. Wait
    // for that (database time), then count attempts by when they started, not by when we looked.
    // An attempt claimed before the breaker opened and failing after it (a loaded machine) opens
    // it again from then: the cooldown the probe waits for starts at the last such open (`lastOpen`).
    let lastOpen = openedAt;
    const reopenedAt = await waitFor(
      async () => {
        const at = await breakerOpenedAt();
        if (at.getTime() >= lastOpen.getTime() + 2000) return at;
        lastOpen = at;
        return undefined;
      },
      15000,
      50,
    );
    await waitFor(async () => {
      const [row] = await sql<{ over: boolean }>(
        db.superuser,
        `SELECT now() > $1::timestamptz + interval '2 seconds' AS over`,
        [reopenedAt],
      );
      return row.over;
    }, 10000);
    const started = await sql<{ open: number; probes: number }>(
      db.superuser,
      `WITH a AS (SELECT l.at - make_interval(secs => l.latency_ms / 1000.0) AS started FROM webhook_delivery_log l
                  JOIN webhook_deliveries d ON d.id = l.delivery_id WHERE d.endpoint_id = $1)
       SELECT count(*) FILTER (WHERE started > $2::timestamptz + interval '500 milliseconds'
                                 AND started < $4::timestamptz + interval '2 seconds')::int AS open,
              count(*) FILTER (WHERE started >= $4::timestamptz + interval '2 seconds' AND started < $3::timestamptz + interval '2 seconds')::int AS probes
       FROM a`,
      [ep.id, openedAt, reopenedAt, lastOpen],
    );
    // Nothing started while the breaker was open; exactly one probe before it could reopen. An
    // attempt claimed just before the breaker opened may still be in flight when it opens, and its
    // start is estimated (log time − latency), so the open window is judged from 0.5 s on.
    expect(started).toEqual([{ open: 0, probes: 1 }]);
  });

  it('(d) a 410 disables the endpoint at once, with an event; recover re-sends once it is enabled again', async () => {
    const org = await createTestOrg(t.app, 'D');
    let gone = true;
    receiver.behaviour.set('d', () => (gone ? 410 : 200));
    const ep = await endpoint(org, 'd');
    await publish(org);
    await waitFor(() => deliveryOf(org, ep.id, 'failed'), 15000);
    const res = await t.http().get(`/api/webhooks/endpoints/${ep.id}`).set(org.headers);
    expect(res.body).toMatchObject({ enabled: false, disabled_reason: 'endpoint returned 410 Gone' });
    const events = await sql<{ data: { endpoint_id: string } }>(
      db.superuser,
      `SELECT data FROM domain_events WHERE type = 'webhook.endpoint.disabled' AND org_id = $1`,
      [org.id],
    );
    expect(events.map((e) => e.data.endpoint_id)).toEqual([ep.id]);
    expect(receiver.count('d')).toBe(1);

    const since = new Date(Date.now() - 3600_000).toISOString();
    const refused = await t.http().post(`/api/webhooks/endpoints/${ep.id}/recover`).set(org.headers).send({ since });
    expect(refused.status).toBe(409);
    gone = false;
    const enable = await t.http().patch(`/api/webhooks/endpoints/${ep.id}`).set(org.headers).send({ enabled: true });
    expect(enable.status).toBe(200);
    const recovered = await t.http().post(`/api/webhooks/endpoints/${ep.id}/recover`).set(org.headers).send({ since });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ requeued: 1 });
    const d = await waitFor(() => deliveryOf(org, ep.id, 'succeeded'), 15000);
    expect((await detail(org, d.id)).attempt_log.map((a) => a.status_code)).toEqual([410, 200]);
  });

  it('(e) after a secret rotation both the old and the new secret verify', async () => {
    const org = await createTestOrg(t.app, 'E');
    const ep = await endpoint(org, 'e');
    const rotated = await t.http().post(`/api/webhooks/endpoints/${ep.id}/rotate-secret`).set(org.headers);
    expect(rotated.status).toBe(200);
    const next = (rotated.body as { secret: string }).secret;
    receiver.secrets.set('e', [ep.secret, next]);
    await publish(org);
    await waitFor(() => receiver.count('e') >= 1, 15000);
    const [hit] = receiver.hits.get('e')!;
    expect(String(hit.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(hit.verified).toEqual([true, true]);
  });

  it('(f) a delivery whose worker died mid-attempt is picked up by the redrive and delivered', async () => {
    const org = await createTestOrg(t.app, 'F');
    const ep = await endpoint(org, 'f');
    const eventId = randomUUID();
    const created = new Date().toISOString();
    const envelope = { id: eventId, type: 'payroll.run.completed', created_at: created, org_id: org.id, data: {} };
    const [{ id }] = await sql<{ id: string }>(
      db.superuser,
      `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload, status, attempts, updated_at)
       VALUES ($1, $2, $3, 'payroll.run.completed', $4, 'delivering', 1, now() - interval '10 minutes') RETURNING id`,
      [org.id, ep.id, eventId, JSON.stringify(envelope)],
    );
    // One cluster-cron tick of webhooks.redrive (fired now rather than waiting up to 30 s).
    const won = await t.app.get(ClusterCronService).fire('webhooks.redrive', new Date(Date.now() - 12_345));
    expect(won).toBe(true);
    await waitFor(() => receiver.count('f') >= 1, 15000);
    expect(receiver.hits.get('f')![0].headers['webhook-id']).toBe(eventId);
    expect(receiver.hits.get('f')![0].verified).toEqual([true]);
    await waitFor(async () => (await detail(org, id)).status === 'succeeded', 10000);
    expect((await detail(org, id)).attempt_log.map((a) => [a.attempt, a.status_code, a.error_class])).toEqual([
      [1, null, 'worker_lost'],
      [2, 200, null],
    ]);
  });

  it('(g) keeps deliveries inside their org', async () => {
    const a = await createTestOrg(t.app, 'G-a');
    const b = await createTestOrg(t.app, 'G-b');
    const ep = await endpoint(a, 'g');
    await publish(a);
    const d = await waitFor(() => deliveryOf(a, ep.id, 'succeeded'), 15000);
    await expectOrgIsolation(t.http, a, b, [
      { path: `/api/webhooks/deliveries/${d.id}`, id: d.id, methods: ['get'], lists: ['/api/webhooks/deliveries'] },
      { path: `/api/webhooks/deliveries/${d.id}/redeliver`, id: d.id, methods: ['post'] },
      {
        path: `/api/webhooks/endpoints/${ep.id}/recover`,
        id: ep.id,
        methods: ['post'],
        body: { since: new Date(0).toISOString() },
      },
    ]);
    expect(receiver.count('g')).toBe(1);
  });

  it('(h) paces an endpoint with rate_limit_per_second: never faster than its rate, nothing lost', async () => {
    const org = await createTestOrg(t.app, 'H');
    const res = await t
      .http()
      .post('/api/webhooks/endpoints')
      .set(org.headers)
      .send({ url: receiver.url('h'), event_types: ['payroll.run.completed'], rate_limit_per_second: 5 });
    expect(res.status).toBe(201);
    const ep = res.body as { id: string; secret: string; rate_limit_per_second: number };
    expect(ep.rate_limit_per_second).toBe(5);
    receiver.secrets.set('h', [ep.secret]);
    const times: number[] = [];
    receiver.behaviour.set('h', () => {
      times.push(Date.now());
      return 200;
    });
    const n = 12;
    await t.app.get(TenantContext).run(org.id, async () => {
      for (let i = 0; i < n; i++) await t.app.get(EventPublisher).publish('payroll.run.completed', { seq: i });
    });
    await waitFor(() => receiver.count('h') >= n, 30000);
    await sleep(500);
    expect(receiver.count('h')).toBe(n); // each exactly once
    expect(receiver.hits.get('h')!.every((h) => h.verified[0])).toBe(true);
    // Slots are 200 ms apart and none is sent before its slot: the k-th send is at least
    // k × 200 ms after the first, less 50 ms of slack (a slot may go 10 ms early; the first
    // request also pays for its connection).
    times.sort((x, y) => x - y);
    for (let k = 1; k < n; k++) expect(times[k] - times[0]).toBeGreaterThanOrEqual(k * 200 - 50);
    const [{ paced }] = await sql<{ paced: number }>(
      db.superuser,
      `SELECT count(*)::int AS paced FROM webhook_deliveries
       WHERE endpoint_id = $1 AND status = 'succeeded' AND attempts = 1 AND rate_slot_at IS NULL`,
      [ep.id],
    );
    expect(paced).toBe(n); // waiting for a slot is not an attempt
  });

  it('(i) the endpoint shows the breaker state in force: open past its cooldown reads half_open', async () => {
    const org = await createTestOrg(t.app, 'I');
    const ep = await endpoint(org, 'i');
    const state = async () => {
      const res = await t.http().get(`/api/webhooks/endpoints/${ep.id}`).set(org.headers);
      expect(res.status).toBe(200);
      return (res.body as { breaker: { state: string } }).breaker.state;
    };
    const open = (secondsAgo: number) =>
      sql(
        db.superuser,
        `UPDATE webhook_endpoints SET breaker_state = 'open', breaker_failures = 3,
           breaker_opened_at = now() - make_interval(secs => $2) WHERE id = $1`,
        [ep.id, secondsAgo],
      );
    expect(await state()).toBe('closed');
    await open(0);
    expect(await state()).toBe('open');
    await open(5); // the cooldown is 2 s
    expect(await state()).toBe('half_open');
    const list = await t.http().get('/api/webhooks/endpoints').set(org.headers);
    const listed = (list.body as { items: { id: string; breaker: { state: string } }[] }).items;
    expect(listed.find((e) => e.id === ep.id)?.breaker.state).toBe('half_open');
  });

  it('(j) the redrive reads unfinished deliveries through their partial index, not the whole table', async () => {
    const org = await createTestOrg(t.app, 'J');
    const ep = await endpoint(org, 'j');
    await sql(
      db.superuser,
      `INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload, status, attempts, succeeded_at)
       SELECT $1, $2, gen_random_uuid(), 'payroll.run.completed', '{}', 'succeeded', 1, now() FROM generate_series(1, 20000)`,
      [org.id, ep.id],
    );
    await sql(db.superuser, `ANALYZE webhook_deliveries`);
    const plan = await sql<{ 'QUERY PLAN': string }>(
      db.superuser,
      `EXPLAIN ${REDRIVE_SQL.replace('$1', '60').replace('$2', '180').replace('$3', 'true')}`,
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toContain('webhook_deliveries_unfinished');
    expect(text).not.toMatch(/Seq Scan on webhook_deliveries/);
    await sql(db.superuser, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, [ep.id]);
  });
});
