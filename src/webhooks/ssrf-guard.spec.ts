import { checkTargetUrl, isBlockedAddress, resolveAndCheck, SsrfBlockedError } from './ssrf-guard';

const STRICT = { allowHttp: true, allowLoopback: false };

describe('checkTargetUrl', () => {
  it.each([
    'http://127.0.0.1',
    'http://169.254.169.254/latest',
    'http://[::ffff:127.0.0.1]',
    'http://2130706433',
    'http://0x7f.1',
    'http://0177.0.0.1/',
    'http://127.1:8080/x',
    'http://127.0.0.1./',
    'http://[::1]/',
    'http://[::]/',
    'http://0.0.0.0/',
    'http://10.0.0.5/',
    'http://172.16.3.4/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://240.0.0.1/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://[ff02::1]/',
    'https://[64:ff9b::7f00:1]/',
    'https://[64:ff9b::169.254.169.254]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[2002:7f00:1::]/',
    'https://[::127.0.0.1]/',
    'http://localhost:3000/',
    'http://LOCALHOST./',
    'http://api.localhost/',
  ])('refuses %s', (url) => {
    const res = checkTargetUrl(url, STRICT);
    expect(res.ok).toBe(false);
  });

  it.each([
    'http://93.184.216.34/hook',
    'https://[2606:4700::1111]/hook',
    'https://example.com/hooks?x=1',
    'https://[64:ff9b::5db8:d822]/',
    'https://hooks.slack.com/services/T/B/X',
  ])('allows %s', (url) => {
    expect(checkTargetUrl(url, STRICT)).toEqual({ ok: true });
  });

  it('names the reason', () => {
    const res = checkTargetUrl('http://169.254.169.254/latest', STRICT);
    expect(res).toEqual({ ok: false, reason: expect.stringContaining('link-local') as string });
    const mapped = checkTargetUrl('http://[::ffff:127.0.0.1]', STRICT);
    expect(mapped).toEqual({ ok: false, reason: expect.stringContaining('IPv4-mapped') as string });
  });

  it('accepts only http(s), and http only when allowed', () => {
    expect(checkTargetUrl('ftp://example.com/', STRICT).ok).toBe(false);
    expect(checkTargetUrl('file:///etc/passwd', STRICT).ok).toBe(false);
    expect(checkTargetUrl('javascript:alert(1)', STRICT).ok).toBe(false);
    expect(checkTargetUrl('not a url', STRICT).ok).toBe(false);
    expect(checkTargetUrl('http://example.com/', { allowHttp: false, allowLoopback: false })).toEqual({
      ok: false,
      reason: 'must use https',
    });
    expect(checkTargetUrl('https://example.com/', { allowHttp: false, allowLoopback: false }).ok).toBe(true);
  });

  it('refuses credentials in the URL', () => {
    expect(checkTargetUrl('https://user:pw@example.com/', STRICT).ok).toBe(false);
  });

  it('with WEBHOOKS_ALLOW_PRIVATE_TARGETS, allows loopback and nothing else that is not public', () => {
    const dev = { allowHttp: true, allowLoopback: true };
    for (const url of [
      'http://127.0.0.1:4000/hook',
      'http://127.9.9.9/hook',
      'http://localhost:4000/hook',
      'http://[::1]:4000/hook',
      'http://[::ffff:127.0.0.1]/hook',
    ]) {
      expect({ url, ok: checkTargetUrl(url, dev).ok }).toEqual({ url, ok: true });
    }
    for (const url of [
      'http://169.254.169.254/latest',
      'http://[fd00:ec2::254]/latest',
      'http://100.100.100.200/latest',
      'http://[fe80::1]/hook',
      'http://10.0.0.5/hook',
      'http://192.168.1.1/hook',
      'http://0.0.0.0/hook',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://metadata/computeMetadata/v1/',
      'http://instance-data/latest',
    ]) {
      expect({ url, ok: checkTargetUrl(url, dev).ok }).toEqual({ url, ok: false });
    }
  });
});

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '0x7f.1',
    '0177.0.0.1',
    '2130706433',
    '127.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.1.2.3',
    '239.255.255.250',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'ff05::1',
    '::ffff:127.0.0.1',
    '::ffff:192.168.0.1',
    '64:ff9b::10.0.0.1',
    '64:ff9b::a9fe:a9fe',
    'not-an-ip',
  ])('blocks %s', (ip) => {
    expect(isBlockedAddress(ip)).toEqual(expect.any(String));
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '2001:4860:4860::8888', '::ffff:93.184.216.34'])(
    'allows %s',
    (ip) => {
      expect(isBlockedAddress(ip)).toBeNull();
    },
  );
});

describe('resolveAndCheck', () => {
  const resolver = (answers: Record<string, string[]>) => (host: string) =>
    Promise.resolve((answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

  it('returns public addresses', async () => {
    const r = resolver({ 'ok.example': ['93.184.216.34', '2606:4700::1111'] });
    await expect(resolveAndCheck('ok.example', false, r)).resolves.toEqual(['93.184.216.34', '2606:4700::1111']);
  });

  it('throws when ANY address is blocked', async () => {
    const r = resolver({ 'evil.example': ['93.184.216.34', '127.0.0.1'] });
    await expect(resolveAndCheck('evil.example', false, r)).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(resolveAndCheck('evil.example', true, r)).resolves.toHaveLength(2);
  });

  it('with loopback allowed, a name resolving to link-local, metadata or private space is still refused', async () => {
    const r = resolver({
      'meta.example': ['169.254.169.254'],
      'ec2v6.example': ['fd00:ec2::254'],
      'lan.example': ['10.1.2.3'],
      'dev.example': ['127.0.0.1', '::1'],
    });
    for (const host of ['meta.example', 'ec2v6.example', 'lan.example', 'metadata.google.internal']) {
      await expect(resolveAndCheck(host, true, r)).rejects.toBeInstanceOf(SsrfBlockedError);
    }
    await expect(resolveAndCheck('dev.example', true, r)).resolves.toEqual(['127.0.0.1', '::1']);
  });

  it('checks IP literals and localhost without DNS', async () => {
    const never = () => Promise.reject(new Error('no DNS expected'));
    await expect(resolveAndCheck('0x7f.1', false, never)).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(resolveAndCheck('[::1]', false, never)).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(resolveAndCheck('localhost', false, never)).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(resolveAndCheck('93.184.216.34', false, never)).resolves.toEqual(['93.184.216.34']);
  });
});
