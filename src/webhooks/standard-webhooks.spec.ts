import { Webhook } from 'standardwebhooks';
import { signStandard, slackText, StandardWebhookError, verifyStandard, webhookRequest } from './standard-webhooks';
import { generateWebhookSecret } from './webhook-secrets';

const body = JSON.stringify({ id: 'evt', type: 'payroll.run.completed', data: { net: 'ünïcode ✓', n: 1 } });

function headersFor(id: string, ts: number, signature: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature };
}

describe('Standard Webhooks signing', () => {
  const secret = generateWebhookSecret();
  const now = Date.now();
  const ts = Math.floor(now / 1000);

  it('produces what the reference package verifies', () => {
    const sig = signStandard('msg_1', ts, body, [secret]);
    expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headersFor('msg_1', ts, sig))).toEqual(JSON.parse(body));
  });

  it('matches the reference signature byte for byte', () => {
    expect(signStandard('msg_2', ts, body, [secret])).toBe(new Webhook(secret).sign('msg_2', new Date(now), body));
  });

  it('signs with every secret during a rotation; each verifies alone with the reference', () => {
    const next = generateWebhookSecret();
    const sig = signStandard('msg_3', ts, body, [next, secret]);
    expect(sig.split(' ')).toHaveLength(2);
    for (const s of [next, secret])
      expect(() => new Webhook(s).verify(body, headersFor('msg_3', ts, sig))).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headersFor('msg_3', ts, sig))).toThrow();
  });

  it('is refused by the reference when the body, id or timestamp changed', () => {
    const sig = signStandard('msg_4', ts, body, [secret]);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('"n":1', '"n":2'), headersFor('msg_4', ts, sig))).toThrow();
    expect(() => wh.verify(body, headersFor('msg_5', ts, sig))).toThrow();
    expect(() => wh.verify(body, headersFor('msg_4', ts + 1, sig))).toThrow();
  });

  it('refuses an empty secret list', () => {
    expect(() => signStandard('m', ts, body, [])).toThrow();
  });
});

describe('verifyStandard', () => {
  const secret = generateWebhookSecret();
  const now = Date.now();
  const ts = Math.floor(now / 1000);
  const refSig = (id: string, at: number, payload = body) => new Webhook(secret).sign(id, new Date(at * 1000), payload);

  it('accepts what the reference package signs (string or Buffer body, any header case)', () => {
    const headers = headersFor('msg_a', ts, refSig('msg_a', ts));
    expect(verifyStandard(headers, body, secret, 300, now)).toEqual({ id: 'msg_a', timestamp: ts });
    expect(verifyStandard(headers, Buffer.from(body), secret, 300, now).id).toBe('msg_a');
    const upper = { 'Webhook-Id': 'msg_a', 'WEBHOOK-TIMESTAMP': String(ts), 'Webhook-Signature': refSig('msg_a', ts) };
    expect(verifyStandard(upper, body, secret, 300, now).id).toBe('msg_a');
    expect(verifyStandard(new Headers(headers), body, secret, 300, now).id).toBe('msg_a');
  });

  it('accepts any of several signatures and any of several secrets', () => {
    const other = generateWebhookSecret();
    const sig = `v1,${Buffer.alloc(32).toString('base64')} ${refSig('msg_b', ts)}`;
    expect(verifyStandard(headersFor('msg_b', ts, sig), body, [other, secret], 300, now).id).toBe('msg_b');
  });

  const reason = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(StandardWebhookError);
      return (err as StandardWebhookError).reason;
    }
    throw new Error('did not throw');
  };

  it('fails closed with a reason', () => {
    const good = refSig('msg_c', ts);
    expect(reason(() => verifyStandard({}, body, secret, 300, now))).toBe('missing_headers');
    expect(reason(() => verifyStandard(headersFor('msg_c', ts, good), `${body} `, secret, 300, now))).toBe(
      'no_matching_signature',
    );
    expect(reason(() => verifyStandard(headersFor('msg_c', ts, good), body, generateWebhookSecret(), 300, now))).toBe(
      'no_matching_signature',
    );
    expect(reason(() => verifyStandard(headersFor('msg_c', ts, 'v2,' + good.slice(3)), body, secret, 300, now))).toBe(
      'no_matching_signature',
    );
    expect(reason(() => verifyStandard(headersFor('msg_c', ts, 'v1,short'), body, secret, 300, now))).toBe(
      'no_matching_signature',
    );
    const h = headersFor('msg_c', ts, good);
    expect(reason(() => verifyStandard({ ...h, 'webhook-timestamp': '12a' }, body, secret, 300, now))).toBe(
      'invalid_timestamp',
    );
  });

  it('enforces the timestamp tolerance both ways', () => {
    const old = ts - 301;
    const future = ts + 301;
    expect(reason(() => verifyStandard(headersFor('m', old, refSig('m', old)), body, secret, 300, now))).toBe(
      'timestamp_too_old',
    );
    expect(reason(() => verifyStandard(headersFor('m', future, refSig('m', future)), body, secret, 300, now))).toBe(
      'timestamp_too_new',
    );
    const edge = ts - 300;
    expect(verifyStandard(headersFor('m', edge, refSig('m', edge)), body, secret, 300, now).timestamp).toBe(edge);
  });
});

describe('webhookRequest', () => {
  const secret = generateWebhookSecret();
  // jsonb hands keys back in its own order; the request restores the documented one.
  const stored = { data: { b: 2, a: 'x' }, id: 'evt_1', type: 'payroll.run.completed', org_id: 'o', created_at: 't' };
  const now = Date.now();

  it('sends the envelope in documented key order with Standard Webhooks headers the reference accepts', () => {
    const req = webhookRequest(stored, 'standard', [secret], now);
    expect(Object.keys(JSON.parse(req.body) as object)).toEqual(['id', 'type', 'created_at', 'org_id', 'data']);
    expect(req.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(now / 1000)),
    });
    expect(new Webhook(secret).verify(req.body, req.headers)).toEqual(JSON.parse(req.body));
  });

  it('sends Slack a short unsigned text', () => {
    const req = webhookRequest(stored, 'slack', [], now);
    expect(JSON.parse(req.body)).toEqual({ text: 'payroll.run.completed: b=2, a=x' });
    expect(req.headers['webhook-signature']).toBeUndefined();
    expect(slackText('t', { nested: { x: 1 } })).toBe('t');
    expect(slackText('t', { s: 'y'.repeat(400) })).toHaveLength(300);
  });
});
