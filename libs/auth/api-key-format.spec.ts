import { createHash, randomInt } from 'node:crypto';
import * as zlib from 'node:zlib';
import {
  API_KEY_LENGTH,
  API_KEY_PATTERN,
  BASE62_ALPHABET,
  crc32,
  crc32Portable,
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
} from './api-key-format';

const KEY_SHAPE = /^cops_[0-9A-Za-z]{36}$/;

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('crc32', () => {
  it.each([
    ['', 0x00000000],
    ['a', 0xe8b7be43],
    ['abc', 0x352441c2],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('matches the known vector for %j', (input, expected) => {
    expect(crc32Portable(input)).toBe(expected);
    expect(crc32Portable(Buffer.from(input))).toBe(expected);
    expect(crc32(input)).toBe(expected);
  });

  it('returns unsigned values', () => {
    expect(crc32Portable(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(0xffffffff);
    expect(crc32Portable('\u00ff')).toBeGreaterThan(0x7fffffff);
  });

  const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  (typeof zlibCrc32 === 'function' ? it : it.skip)('agrees with zlib.crc32 on random inputs', () => {
    for (let i = 0; i < 2000; i++) {
      const data = Buffer.from(Array.from({ length: randomInt(0, 200) }, () => randomInt(256)));
      expect(crc32Portable(data)).toBe(zlibCrc32!(data) >>> 0);
    }
  });

  it('falls back to the portable implementation where zlib has no crc32', () => {
    jest.isolateModules(() => {
      jest.doMock('node:zlib', () => ({ ...jest.requireActual('node:zlib'), crc32: undefined }));
      const fresh = require('./api-key-format') as typeof import('./api-key-format');
      expect(fresh.crc32).toBe(fresh.crc32Portable);
      expect(fresh.looksLikeApiKey(generateApiKey().key)).toBe(true);
    });
    jest.dontMock('node:zlib');
  });
});

describe('generateApiKey', () => {
  const keys = Array.from({ length: 10_000 }, () => generateApiKey());

  it('returns cops_ + 36 base62 characters (41 in all)', () => {
    const { key } = keys[0];
    expect(key).toHaveLength(41);
    expect(API_KEY_LENGTH).toBe(41);
    expect(key).toMatch(KEY_SHAPE);
  });

  it('derives prefix, last4 and hash from the key', () => {
    for (const { key, prefix, last4, hash } of keys.slice(0, 100)) {
      expect(prefix).toBe(key.slice(0, 12));
      expect(prefix).toMatch(/^cops_[0-9A-Za-z]{7}$/);
      expect(last4).toBe(key.slice(37));
      expect(last4).toHaveLength(4);
      expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    }
  });

  it('ends with the base62 CRC32 of the 30 random characters', () => {
    for (const { key } of keys.slice(0, 200)) {
      let value = 0;
      for (const char of key.slice(35)) value = value * 62 + BASE62_ALPHABET.indexOf(char);
      expect(value).toBe(crc32(key.slice(5, 35)));
    }
  });

  it('produces 10,000 unique keys that all pass the format check', () => {
    expect(new Set(keys.map((k) => k.key)).size).toBe(keys.length);
    expect(new Set(keys.map((k) => k.hash)).size).toBe(keys.length);
    expect(keys.filter(({ key }) => !KEY_SHAPE.test(key) || !looksLikeApiKey(key))).toEqual([]);
  });

  it('draws random characters uniformly from the base62 alphabet', () => {
    const counts = new Map<string, number>();
    for (const { key } of keys) {
      for (const char of key.slice(5, 35)) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...BASE62_ALPHABET].sort());
    // 300,000 draws: ~4839 per character, σ ≈ 69, so ±10% is ~7σ; a modulo bias shows as +20%.
    const expected = (keys.length * 30) / 62;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.9);
      expect(count).toBeLessThan(expected * 1.1);
    }
  });
});

describe('looksLikeApiKey', () => {
  it('rejects every single-character substitution', () => {
    const accepted: string[] = [];
    for (let n = 0; n < 20; n++) {
      const { key } = generateApiKey();
      for (let i = 0; i < key.length; i++) {
        for (const char of BASE62_ALPHABET) {
          const mutant = replaceAt(key, i, char);
          if (char !== key[i] && looksLikeApiKey(mutant)) accepted.push(mutant);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('rejects many random one-character mutations', () => {
    const accepted: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const { key } = generateApiKey();
      const index = randomInt(key.length);
      let char = key[index];
      while (char === key[index]) char = BASE62_ALPHABET[randomInt(62)];
      if (looksLikeApiKey(replaceAt(key, index, char))) accepted.push(replaceAt(key, index, char));
    }
    expect(accepted).toEqual([]);
  });

  it('rejects swapped adjacent characters', () => {
    for (let n = 0; n < 200; n++) {
      const { key } = generateApiKey();
      for (let i = 5; i < key.length - 1; i++) {
        if (key[i] === key[i + 1]) continue;
        expect(looksLikeApiKey(key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2))).toBe(false);
      }
    }
  });

  it.each([
    ['empty', ''],
    ['prefix only', 'cops_'],
    ['wrong prefix', (k: string) => `cops-${k.slice(5)}`],
    ['upper-case prefix', (k: string) => `COPS_${k.slice(5)}`],
    ['truncated', (k: string) => k.slice(0, -1)],
    ['extended', (k: string) => `${k}0`],
    ['surrounding whitespace', (k: string) => ` ${k}`],
    ['trailing newline', (k: string) => `${k}\n`],
    ['non-base62 character', (k: string) => replaceAt(k, 20, '_')],
    ['non-ascii character', (k: string) => replaceAt(k, 20, 'é')],
  ])('rejects %s', (_label, make) => {
    const candidate = typeof make === 'string' ? make : make(generateApiKey().key);
    expect(looksLikeApiKey(candidate)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(looksLikeApiKey(undefined as unknown as string)).toBe(false);
    expect(looksLikeApiKey(null as unknown as string)).toBe(false);
    expect(looksLikeApiKey(42 as unknown as string)).toBe(false);
  });
});

describe('API_KEY_PATTERN', () => {
  it('finds keys embedded in text', () => {
    const { key } = generateApiKey();
    for (const text of [key, `Authorization: Bearer ${key}`, `API_KEY="${key}"`, `key=${key}&x=1`, `${key}\n`]) {
      expect(text.match(API_KEY_PATTERN)?.[0]).toBe(key);
    }
  });

  it('ignores near misses', () => {
    const { key } = generateApiKey();
    expect(API_KEY_PATTERN.test(key.slice(0, -1))).toBe(false);
    expect(API_KEY_PATTERN.test(`${key}0`)).toBe(false);
    expect(API_KEY_PATTERN.test(`x${key}`)).toBe(false);
    expect(API_KEY_PATTERN.test(key.replace('cops_', 'cops-'))).toBe(false);
  });

  it('is stateless across calls', () => {
    const { key } = generateApiKey();
    expect(API_KEY_PATTERN.test(key)).toBe(true);
    expect(API_KEY_PATTERN.test(key)).toBe(true);
  });
});

describe('hashApiKey', () => {
  it('is hex SHA-256 of the key, deterministic', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const { key, hash } = generateApiKey();
    expect(hashApiKey(key)).toBe(hash);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    const other = key.endsWith('x') ? 'y' : 'x';
    expect(hashApiKey(`${key.slice(0, -1)}${other}`)).not.toBe(hash);
  });
});
