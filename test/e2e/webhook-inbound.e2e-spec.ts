import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  createTestDatabase,
  createTestHttpApp,
  createTestOrg,
  expectOrgIsolation,
  sql,
  TestDatabase,
  TestHttpApp,
  TestOrg,
  waitFor,
} from '../support';
import { seedAgents } from './fixtures/sessions-seed';

const ENV = {
  QUEUE_POLL_INTERVAL_SECONDS: '0.5',
  EVENTS_RELAY_INTERVAL_MS: '100',
  DATABASE_POOL_SIZE: '20',
  CALL_OFFER_TIMEOUT_SECONDS: '600',
  RATE_LIMIT_PRO_PER_HOUR: '100000',
};
const FORM = 'application/x-www-form-urlencoded';
const HOST = 'hooks.example.test';

/**
 * Twilio's documented algorithm, written here independently of src/webhooks: the URL, then
 * each POST parameter name+value in name order, HMAC-SHA1 with the auth token, base64.
 */
function twilioSign(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

describe('inbound webhooks', () => {
  let db: TestDatabase;
  let t: TestHttpApp;
  let org: TestOrg;
  let other: TestOrg;
  const token = 'twilio-auth-token-0123456789abcdef';

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestHttpApp({ db, role: 'all', env: ENV });
    org = await createTestOrg(t.app, 'Inbound Org', 'pro');
    other = await createTestOrg(t.app, 'Other Org', 'pro');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  async function twilioSource(publicUrl?: string): Promise<{ id: string; url: string }> {
    const res = await t
      .http()
      .post('/api/webhooks/sources')
      .set(org.headers)
      .send({ provider: 'twilio', name: 'Twilio', auth_token: token, ...(publicUrl ? { public_url: publicUrl } : {}) });
    expect(res.status).toBe(201);
    return res.body as { id: string; url: string };
  }

  function postTwilio(path: string, params: Record<string, string>, signature: string | undefined) {
    const req = t.http().post(path).set('Host', HOST).set('Content-Type', FORM);
    if (signature !== undefined) req.set('X-Twilio-Signature', signature);
    return req.send(new URLSearchParams(params).toString());
  }

  const rowsOf = async (sourceId: string) =>
    sql<{ event_id: string; status: string; attempts: number }>(
      db.superuser,
      `SELECT event_id, status, attempts FROM processed_webhook_events WHERE source_id = $1`,
      [sourceId],
    );

  it('a validly signed Twilio status callback is accepted (202) and ends the matching call', async () => {
    await seedAgents(db.superuser, org.id, 1);
    const call = await t
      .http()
      .post('/api/calls/inbound')
      .set(org.headers)
      .send({ from: '+15550001111', external_id: 'CAe2e0000000000000000000000000001' });
    expect(call.status).toBe(201);
    expect(call.body.status).toBe('ringing');
    expect((await t.http().post(`/api/calls/${call.body.call_id}/answer`).set(org.headers)).status).toBe(200);

    const source = await twilioSource();
    expect(source.url).toBe(`/api/webhooks/inbound/${source.id}`);
    expect(JSON.stringify(source)).not.toContain(token);
    // No public_url: Twilio signed the URL this request reached us at.
    const params = {
      CallSid: 'CAe2e0000000000000000000000000001',
      CallStatus: 'completed',
      From: '+15550001111',
      To: '+15559990000',
      AccountSid: 'AC0000',
      SequenceNumber: '3',
    };
    const res = await postTwilio(source.url, params, twilioSign(token, `http://${HOST}${source.url}`, params));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ received: true });

    const ended = await waitFor(async () => {
      const r = await t.http().get(`/api/calls/${call.body.call_id}`).set(org.headers);
      return r.body.status === 'completed' ? r.body : undefined;
    }, 15000);
    expect(ended.end_reason).toBe('provider:completed');
    await waitFor(async () => (await rowsOf(source.id))[0]?.status === 'processed');
    expect(await rowsOf(source.id)).toEqual([
      { event_id: 'CAe2e0000000000000000000000000001:completed:3', status: 'processed', attempts: 1 },
    ]);
  });

  it('with public_url, the signature is over that URL (a proxy in between)', async () => {
    const publicUrl = 'https://public.example.com/twilio/status';
    const source = await twilioSource(publicUrl);
    const params = { CallSid: 'CAproxy', CallStatus: 'ringing', From: '+1', To: '+2' };
    expect(
      (await postTwilio(source.url, params, twilioSign(token, `http://${HOST}${source.url}`, params))).status,
    ).toBe(401);
    expect((await postTwilio(source.url, params, twilioSign(token, publicUrl, params))).status).toBe(202);
  });

  it('a wrong, missing or foreign signature is a 401 problem and nothing is stored', async () => {
    const source = await twilioSource();
    const params = { CallSid: 'CAbad', CallStatus: 'completed', From: '+1', To: '+2' };
    const url = `http://${HOST}${source.url}`;
    const attempts = [
      await postTwilio(source.url, params, twilioSign('another-token-000000', url, params)),
      await postTwilio(source.url, params, undefined),
      await postTwilio(source.url, { ...params, CallStatus: 'failed' }, twilioSign(token, url, params)),
      await postTwilio(
        '/api/webhooks/inbound/00000000-0000-4000-8000-000000000000',
        params,
        twilioSign(token, url, params),
      ),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await postTwilio('/api/webhooks/inbound/not-a-uuid', params, 'x')).status).toBe(404);
    expect(await rowsOf(source.id)).toEqual([]);
    const [{ n }] = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM processed_webhook_events WHERE event_id LIKE 'CAbad%'`,
    );
    expect(n).toBe(0);
    expect((await t.http().post(source.url).set('Content-Type', 'text/plain').send('x')).status).toBe(415);
  });

  it('100 concurrent copies of one event: one 202, 99 duplicates (200), one row, processed once', async () => {
    const source = await twilioSource();
    const params = { CallSid: 'CAconcurrent', CallStatus: 'completed', From: '+1', To: '+2' };
    const signature = twilioSign(token, `http://${HOST}${source.url}`, params);
    const responses = await Promise.all(Array.from({ length: 100 }, () => postTwilio(source.url, params, signature)));
    const byStatus = responses.reduce<Record<number, number>>(
      (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
      {},
    );
    expect(byStatus).toEqual({ 202: 1, 200: 99 });
    expect(responses.filter((r) => r.status === 200).every((r) => r.body.duplicate === true)).toBe(true);
    await waitFor(async () => (await rowsOf(source.id))[0]?.status === 'processed');
    expect(await rowsOf(source.id)).toEqual([{ event_id: 'CAconcurrent:completed', status: 'processed', attempts: 1 }]);
    // Give a wrongly repeated processing every chance to show up.
    await new Promise((r) => setTimeout(r, 1500));
    const events = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM domain_events WHERE type = 'telephony.call.status' AND data->>'call_sid' = 'CAconcurrent'`,
    );
    expect(events[0].n).toBe(1);
    // A later retry of the same event is still a duplicate.
    expect((await postTwilio(source.url, params, signature)).status).toBe(200);
  });

  it('Standard Webhooks: signed with the reference library → 202; 6 minutes old → 401; same id again → 200', async () => {
    const created = await t
      .http()
      .post('/api/webhooks/sources')
      .set(org.headers)
      .send({ provider: 'standard', name: 'Billing' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const { id, url, secret } = created.body as { id: string; url: string; secret: string };
    const fetched = await t.http().get(`/api/webhooks/sources/${id}`).set(org.headers);
    expect(fetched.body.secret).toBeUndefined();
    expect(fetched.text).not.toContain(secret.slice(6));

    const wh = new Webhook(secret);
    const body = JSON.stringify({ type: 'invoice.paid', data: { amount: 100 } });
    const send = (msgId: string, at: Date, signature = wh.sign(msgId, at, body)) =>
      t
        .http()
        .post(url)
        .set('Content-Type', 'application/json')
        .set('webhook-id', msgId)
        .set('webhook-timestamp', String(Math.floor(at.getTime() / 1000)))
        .set('webhook-signature', signature)
        .send(body);

    const ok = await send('msg_e2e_1', new Date());
    expect(ok.status).toBe(202);
    expect((await send('msg_e2e_1', new Date())).status).toBe(200);
    const old = await send('msg_e2e_old', new Date(Date.now() - 6 * 60_000));
    expect(old.status).toBe(401);
    expect(old.headers['content-type']).toMatch(/^application\/problem\+json/);
    const forged = await send(
      'msg_e2e_2',
      new Date(),
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).sign('msg_e2e_2', new Date(), body),
    );
    expect(forged.status).toBe(401);
    expect((await rowsOf(id)).map((r) => r.event_id)).toEqual(['msg_e2e_1']);

    const event = await waitFor(async () => {
      const [row] = await sql<{ data: Record<string, unknown> }>(
        db.superuser,
        `SELECT data FROM domain_events WHERE type = 'webhook.inbound.received' AND data->>'source_id' = $1`,
        [id],
      );
      return row;
    });
    expect(event.data).toEqual({ source_id: id, event_id: 'msg_e2e_1', type: 'invoice.paid' });
  });

  it('validates sources: twilio needs auth_token, standard takes none', async () => {
    const post = (body: object) => t.http().post('/api/webhooks/sources').set(org.headers).send(body);
    expect((await post({ provider: 'twilio', name: 'x' })).status).toBe(400);
    expect((await post({ provider: 'standard', name: 'x', auth_token: 'abcdefghij' })).status).toBe(400);
    expect((await post({ provider: 'other', name: 'x' })).status).toBe(400);
    expect(
      (await post({ provider: 'twilio', name: 'x', auth_token: 'abcdefghij', public_url: 'ftp://x' })).status,
    ).toBe(400);
  });

  it('sources are isolated per org, listed without secrets, and a deleted source answers 401', async () => {
    const source = await twilioSource();
    await expectOrgIsolation(t.http, org, other, [
      {
        path: `/api/webhooks/sources/${source.id}`,
        id: source.id,
        methods: ['get', 'delete'],
        lists: ['/api/webhooks/sources'],
      },
    ]);
    const list = await t.http().get('/api/webhooks/sources?limit=200').set(org.headers);
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(source.id);
    expect(list.text).not.toContain(token);
    expect(list.text).not.toContain('secret');

    expect((await t.http().delete(`/api/webhooks/sources/${source.id}`).set(org.headers)).status).toBe(204);
    expect((await t.http().get(`/api/webhooks/sources/${source.id}`).set(org.headers)).status).toBe(404);
    const params = { CallSid: 'CAdeleted', CallStatus: 'completed' };
    expect(
      (await postTwilio(source.url, params, twilioSign(token, `http://${HOST}${source.url}`, params))).status,
    ).toBe(401);
    const audit = await sql<{ action: string }>(
      db.superuser,
      `SELECT action FROM audit_events WHERE target_id = $1 ORDER BY seq`,
      [source.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['webhooks.source.created', 'webhooks.source.deleted']);
  });
});
