import { createHash } from 'node:crypto';
import { parseFormBody, twilioSignature, urlVariants, verifyTwilioRequest } from './twilio-signature';

// The worked example of Twilio's request-validation documentation (auth token "12345").
const DOC_TOKEN = '12345';
const DOC_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DOC_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const DOC_SIGNATURE = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

describe('twilioSignature', () => {
  it("reproduces the signature of Twilio's documented example", () => {
    expect(twilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS)).toBe(DOC_SIGNATURE);
    expect(twilioSignature(DOC_TOKEN, DOC_URL, { ...DOC_PARAMS, Caller: '+14158675310', From: '+14158675310' })).toBe(
      'GvWf1cFY/Q7PnoempGyD5oXAezc=',
    );
  });

  it('does not depend on the order the parameters arrive in', () => {
    const reversed = Object.fromEntries(Object.entries(DOC_PARAMS).reverse());
    expect(twilioSignature(DOC_TOKEN, DOC_URL, reversed)).toBe(DOC_SIGNATURE);
  });

  it('signs a repeated parameter once per value, values sorted', () => {
    const a = twilioSignature('t', 'https://x.test/h', { A: ['2', '1'], B: 'x' });
    const b = twilioSignature('t', 'https://x.test/h', { A: ['1', '2'], B: 'x' });
    expect(a).toBe(b);
    expect(parseFormBody('A=2&B=x&A=1')).toEqual({ A: ['2', '1'], B: 'x' });
  });
});

describe('verifyTwilioRequest', () => {
  const base = { authToken: DOC_TOKEN, url: DOC_URL, contentType: 'form' as const, rawBody: form(DOC_PARAMS) };

  it('accepts the documented request and decodes form encoding (+ and %2B) as Twilio does', () => {
    expect(verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE })).toBe(true);
    expect(base.rawBody).toContain('%2B1415');
  });

  it('refuses a missing or wrong signature, a changed parameter, URL or token', () => {
    expect(verifyTwilioRequest({ ...base, signature: undefined })).toBe(false);
    expect(verifyTwilioRequest({ ...base, signature: '' })).toBe(false);
    expect(verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE.replace('R', 'S') })).toBe(false);
    expect(verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE + '=' })).toBe(false);
    expect(
      verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE, rawBody: form({ ...DOC_PARAMS, Digits: '9' }) }),
    ).toBe(false);
    expect(verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE, url: DOC_URL + '&x=1' })).toBe(false);
    expect(verifyTwilioRequest({ ...base, signature: DOC_SIGNATURE, authToken: '54321' })).toBe(false);
  });

  it("accepts the URL with or without the scheme's default port", () => {
    const signed = twilioSignature(DOC_TOKEN, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', DOC_PARAMS);
    expect(verifyTwilioRequest({ ...base, signature: signed })).toBe(true);
    expect(
      verifyTwilioRequest({
        ...base,
        url: 'https://mycompany.com:443/myapp.php?foo=1&bar=2',
        signature: DOC_SIGNATURE,
      }),
    ).toBe(true);
    expect(urlVariants('http://h.test:8080/p')).toEqual(['http://h.test:8080/p']);
    expect(urlVariants('http://h.test/p')).toEqual(['http://h.test/p', 'http://h.test:80/p']);
  });

  it('JSON bodies: signs the URL only, and bodySHA256 must match the raw body', () => {
    const body = '{"CallSid":"CA1","CallStatus":"completed"}';
    const hash = createHash('sha256').update(body).digest('hex');
    const url = `https://hooks.example.com/api/webhooks/inbound/x?bodySHA256=${hash}`;
    const signature = twilioSignature('tok', url, {});
    const req = { authToken: 'tok', url, signature, contentType: 'json' as const, rawBody: body };
    expect(verifyTwilioRequest(req)).toBe(true);
    expect(verifyTwilioRequest({ ...req, rawBody: body.replace('completed', 'failed') })).toBe(false);
    const noHash = 'https://hooks.example.com/api/webhooks/inbound/x';
    expect(verifyTwilioRequest({ ...req, url: noHash, signature: twilioSignature('tok', noHash, {}) })).toBe(false);
  });
});
