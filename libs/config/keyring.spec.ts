import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { generateKeyringEntry, Keyring, parseKeyring } from './keyring';

const keyA = Buffer.alloc(32, 0xa1);
const keyB = Buffer.alloc(32, 0xb2);

/** Parses and returns the error message, asserting that no key material leaked into it. */
function parseError(raw: string, secrets: string[] = []): string {
  let message: string | undefined;
  try {
    parseKeyring(raw);
  } catch (err) {
    message = (err as Error).message;
  }
  if (message === undefined) throw new Error('expected parseKeyring to throw');
  for (const secret of secrets) expect(message).not.toContain(secret);
  return message;
}

describe('parseKeyring', () => {
  it('keeps entries in order, the first one encrypting', () => {
    const ring = parseKeyring(`new:${keyB.toString('base64')},old:${keyA.toString('base64')}`);
    expect(ring.kids).toEqual(['new', 'old']);
    expect(ring.primaryKid).toBe('new');
    expect(ring.key('new')).toEqual(keyB);
    expect(ring.key('old')).toEqual(keyA);
    expect(ring.has('old')).toBe(true);
    expect(ring.key('other')).toBeUndefined();
  });

  it('accepts standard and url-safe base64, with or without padding', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i * 3));
    const standard = key.toString('base64');
    expect(standard).toMatch(/[+/]/);
    for (const encoded of [standard, standard.replace(/=+$/, ''), key.toString('base64url')]) {
      expect(parseKeyring(`k1:${encoded}`).key('k1')).toEqual(key);
    }
  });

  it('ignores whitespace around entries and blank segments', () => {
    const ring = parseKeyring(` a : ${keyA.toString('base64')} ,\n b:${keyB.toString('base64')} , `);
    expect(ring.kids).toEqual(['a', 'b']);
  });

  it('accepts kids of 1 to 32 characters from [A-Za-z0-9_-]', () => {
    const kid = 'Ab_-9'.padEnd(32, 'x');
    expect(parseKeyring(`${kid}:${keyA.toString('base64')}`).primaryKid).toBe(kid);
  });

  it('rejects an empty value', () => {
    expect(parseError('')).toMatch(/empty/);
    expect(parseError(' , ')).toMatch(/at least one key/);
    expect(() => parseKeyring(undefined as unknown as string)).toThrow(/empty/);
  });

  it('rejects an entry without a kid, without echoing it', () => {
    const bare = keyA.toString('base64');
    expect(parseError(`k1:${keyB.toString('base64')},${bare}`, [bare, keyB.toString('base64')])).toBe(
      'keyring entry 2: expected kid:base64key',
    );
  });

  it.each([['bad kid'], ['a.b'], ['x'.repeat(33)], ['']])('rejects the invalid kid %j', (kid) => {
    const encoded = keyA.toString('base64');
    expect(parseError(`${kid}:${encoded}`, [encoded])).toMatch(/keyring entry 1: key id must match/);
  });

  it('rejects duplicate kids, naming the kid', () => {
    const message = parseError(`k1:${keyA.toString('base64')},k1:${keyB.toString('base64')}`, [
      keyA.toString('base64'),
      keyB.toString('base64'),
    ]);
    expect(message).toBe('keyring entry 2: duplicate key id "k1"');
  });

  it('rejects the same key under two kids', () => {
    const encoded = keyA.toString('base64');
    expect(parseError(`k2:${encoded},k1:${encoded}`, [encoded])).toBe(
      'keyring entry 2 (kid "k1"): same key as kid "k2"',
    );
  });

  it('rejects a missing key', () => {
    expect(parseError('k1:')).toBe('keyring entry 1 (kid "k1"): key is missing');
  });

  it.each([
    ['a stray character', (s: string) => `${s.slice(0, 10)}!${s.slice(11)}`],
    ['inner whitespace', (s: string) => `${s.slice(0, 10)} ${s.slice(10)}`],
    ['mixed alphabets', (s: string) => `+_${s.slice(2)}`],
    ['wrong padding', (s: string) => `${s.replace(/=+$/, '')}===`],
    ['padding on an unaligned length', (s: string) => `${s.replace(/=+$/, '')}A=`],
    ['non-canonical trailing bits', (s: string) => `${s.slice(0, 42)}B=`],
  ])('rejects bad base64 (%s), naming the kid only', (_label, mangle) => {
    const encoded = Buffer.alloc(32, 0x5c).toString('base64');
    const bad = mangle(encoded);
    const message = parseError(`good:${keyB.toString('base64')},k7:${bad}`, [bad, encoded, keyB.toString('base64')]);
    expect(message).toBe('keyring entry 2 (kid "k7"): key is not valid base64');
  });

  it.each([16, 31, 33, 64])('rejects a %i-byte key, naming the kid only', (length) => {
    const encoded = randomBytes(length).toString('base64');
    expect(parseError(`short:${encoded}`, [encoded])).toBe(
      `keyring entry 1 (kid "short"): key must decode to 32 bytes, got ${length}`,
    );
  });

  it('never prints key material when inspected or serialised', () => {
    const encoded = keyA.toString('base64');
    const ring = parseKeyring(`k1:${encoded}`);
    const printed = [inspect(ring), inspect({ ring }, { depth: 5 }), JSON.stringify({ ring }), String(ring)];
    for (const text of printed) {
      expect(text).not.toContain(encoded);
      expect(text).not.toContain(keyA.toString('hex'));
    }
    expect(JSON.stringify(ring)).toBe('{"kids":["k1"]}');
    expect(inspect(ring)).toBe("Keyring { kids: ['k1'] }");
  });
});

describe('Keyring', () => {
  it('copies keys so later changes to the caller buffer have no effect', () => {
    const key = Buffer.from(keyA);
    const ring = new Keyring([{ kid: 'k1', key }]);
    key.fill(0);
    expect(ring.key('k1')).toEqual(keyA);
  });

  it('validates entries given directly', () => {
    expect(() => new Keyring([])).toThrow(/at least one key/);
    expect(() => new Keyring([{ kid: 'k1', key: Buffer.alloc(16) }])).toThrow(
      'keyring entry 1 (kid "k1"): key must be 32 bytes, got 16',
    );
    expect(
      () =>
        new Keyring([
          { kid: 'k1', key: keyA },
          { kid: 'k1', key: keyB },
        ]),
    ).toThrow('keyring entry 2: duplicate key id "k1"');
    expect(() => new Keyring([{ kid: 'no good', key: keyA }])).toThrow(/key id must match/);
  });
});

describe('generateKeyringEntry', () => {
  it('produces an entry parseKeyring accepts, with a dated default kid', () => {
    const entry = generateKeyringEntry();
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    expect(entry).toMatch(new RegExp(`^k${today}-[0-9a-f]{8}:[A-Za-z0-9+/]{43}=$`));
    const ring = parseKeyring(entry);
    expect(ring.key(ring.primaryKid)).toHaveLength(32);
  });

  it('uses the given kid', () => {
    expect(parseKeyring(generateKeyringEntry('rot-2')).primaryKid).toBe('rot-2');
  });

  it('rejects an invalid kid', () => {
    expect(() => generateKeyringEntry('has:colon')).toThrow(/key id must match/);
  });

  it('makes a fresh key and kid every time', () => {
    const entries = Array.from({ length: 50 }, () => generateKeyringEntry());
    expect(new Set(entries.map((e) => e.split(':')[0])).size).toBe(50);
    expect(new Set(entries.map((e) => e.split(':')[1])).size).toBe(50);
    expect(() => parseKeyring(entries.join(','))).not.toThrow();
  });
});
