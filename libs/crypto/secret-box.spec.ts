import { Keyring } from '../config';
import { DecryptionError, SecretBox } from './secret-box';

const oldKey = Buffer.alloc(32, 0x01);
const newKey = Buffer.alloc(32, 0x02);
const oldRing = new Keyring([{ kid: 'old', key: oldKey }]);
const rotatedRing = new Keyring([
  { kid: 'new', key: newKey },
  { kid: 'old', key: oldKey },
]);

const box = new SecretBox(oldRing);
const SECRET = 'sk_live_do-not-leak-0123456789';

/** Replaces the character at `index` with a different base64url character. */
function flipChar(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

function replacePart(token: string, index: number, value: string): string {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
}

function decryptError(secretBox: SecretBox, token: string, aad?: string): DecryptionError {
  try {
    secretBox.decrypt(token, aad);
  } catch (err) {
    expect(err).toBeInstanceOf(DecryptionError);
    const error = err as DecryptionError;
    expect(error.name).toBe('DecryptionError');
    expect(error.message).not.toContain(SECRET);
    if (typeof token === 'string') {
      for (const part of token.split('.').filter((p) => p.length > 4)) expect(error.message).not.toContain(part);
    }
    return error;
  }
  throw new Error('expected decrypt to throw');
}

describe('SecretBox', () => {
  describe('round trip', () => {
    it.each([
      ['ascii', SECRET],
      ['unicode', 'päßwörd — 密码 — 🔐🚀 — \u0000\uffff'],
      ['the empty string', ''],
      ['100 KB', 'x'.repeat(50 * 1024) + 'é'.repeat(25 * 1024)],
    ])('returns %s unchanged', (_label, plaintext) => {
      expect(box.decrypt(box.encrypt(plaintext))).toBe(plaintext);
      expect(box.decrypt(box.encrypt(plaintext, 'org-1:webhooks.secret'), 'org-1:webhooks.secret')).toBe(plaintext);
    });

    it('treats omitted and empty associated data alike', () => {
      expect(box.decrypt(box.encrypt(SECRET), '')).toBe(SECRET);
      expect(box.decrypt(box.encrypt(SECRET, ''))).toBe(SECRET);
    });

    it('produces the documented token shape without the plaintext', () => {
      const token = box.encrypt(SECRET);
      expect(token).toMatch(/^v1\.old\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
      const [, , iv, sealed] = token.split('.');
      expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
      expect(Buffer.from(sealed, 'base64url')).toHaveLength(Buffer.byteLength(SECRET) + 16);
      expect(token).not.toContain(SECRET);
      expect(box.encrypt('')).toMatch(/^v1\.old\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}$/);
    });

    it('uses a random IV, so equal plaintexts give different tokens', () => {
      const tokens = Array.from({ length: 100 }, () => box.encrypt(SECRET));
      expect(new Set(tokens).size).toBe(100);
      expect(new Set(tokens.map((t) => t.split('.')[2])).size).toBe(100);
    });
  });

  describe('rotation', () => {
    const rotated = new SecretBox(rotatedRing);

    it('decrypts tokens sealed by the old key once a new key is prepended', () => {
      const token = box.encrypt(SECRET, 'org-1');
      expect(rotated.decrypt(token, 'org-1')).toBe(SECRET);
    });

    it('encrypts with the newest key', () => {
      const token = rotated.encrypt(SECRET);
      expect(token.split('.')[1]).toBe('new');
      expect(rotated.decrypt(token)).toBe(SECRET);
      expect(decryptError(box, token).message).toBe('unknown key id "new"');
    });

    it('reports which tokens need re-encryption', () => {
      const oldToken = box.encrypt(SECRET);
      expect(box.needsReencryption(oldToken)).toBe(false);
      expect(rotated.needsReencryption(oldToken)).toBe(true);
      const reencrypted = rotated.encrypt(rotated.decrypt(oldToken));
      expect(rotated.needsReencryption(reencrypted)).toBe(false);
      expect(rotated.decrypt(reencrypted)).toBe(SECRET);
    });

    it('flags a token whose key has left the keyring', () => {
      const retired = new SecretBox(new Keyring([{ kid: 'new', key: newKey }]));
      expect(retired.needsReencryption(box.encrypt(SECRET))).toBe(true);
    });

    it('throws DecryptionError from needsReencryption for a malformed token', () => {
      expect(() => rotated.needsReencryption('garbage')).toThrow(DecryptionError);
    });
  });

  describe('tampering', () => {
    const aad = 'org-1:webhooks.secret';
    const token = box.encrypt(SECRET, aad);
    const [, , iv, sealed] = token.split('.');
    const ciphertextChars = sealed.length - 22;

    it('detects every changed IV character', () => {
      for (let i = 0; i < iv.length; i++) {
        expect(decryptError(box, replacePart(token, 2, flipChar(iv, i)), aad).message).toMatch(/authentication failed/);
      }
    });

    it('detects every changed ciphertext character', () => {
      for (let i = 0; i < ciphertextChars; i++) {
        expect(decryptError(box, replacePart(token, 3, flipChar(sealed, i)), aad)).toBeInstanceOf(DecryptionError);
      }
    });

    it('detects every changed tag character', () => {
      for (let i = ciphertextChars; i < sealed.length; i++) {
        expect(decryptError(box, replacePart(token, 3, flipChar(sealed, i)), aad)).toBeInstanceOf(DecryptionError);
      }
    });

    it('detects every flipped bit of the ciphertext and tag', () => {
      const bytes = Buffer.from(sealed, 'base64url');
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[bit >> 3] ^= 1 << (bit & 7);
        expect(decryptError(box, replacePart(token, 3, copy.toString('base64url')), aad).message).toMatch(
          /authentication failed/,
        );
      }
    });

    it('detects a truncated or extended ciphertext', () => {
      const bytes = Buffer.from(sealed, 'base64url');
      for (const changed of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])])]) {
        expect(decryptError(box, replacePart(token, 3, changed.toString('base64url')), aad)).toBeInstanceOf(
          DecryptionError,
        );
      }
    });

    it('detects a token relabelled with another key id that holds the same key', () => {
      const twin = new SecretBox(
        new Keyring([
          { kid: 'old', key: oldKey },
          { kid: 'alias', key: newKey },
        ]),
      );
      const aliasToken = new SecretBox(new Keyring([{ kid: 'alias', key: oldKey }])).encrypt(SECRET);
      expect(decryptError(twin, replacePart(aliasToken, 1, 'old')).message).toMatch(/authentication failed/);
    });

    it('rejects wrong or missing associated data', () => {
      expect(decryptError(box, token, 'org-2:webhooks.secret').message).toMatch(/authentication failed/);
      expect(decryptError(box, token).message).toMatch(/authentication failed/);
      expect(decryptError(box, box.encrypt(SECRET), aad).message).toMatch(/authentication failed/);
    });

    it('rejects a token decrypted under a different key with the same kid', () => {
      const impostor = new SecretBox(new Keyring([{ kid: 'old', key: newKey }]));
      expect(decryptError(impostor, token, aad).message).toMatch(/authentication failed/);
    });
  });

  describe('unknown kid and malformed tokens', () => {
    const token = box.encrypt(SECRET);
    const [, , iv, sealed] = token.split('.');

    it('rejects an unknown kid, naming it', () => {
      expect(decryptError(box, replacePart(token, 1, 'gone')).message).toBe('unknown key id "gone"');
    });

    it.each([
      ['empty', ''],
      ['not a token', 'hello'],
      ['too few parts', `v1.old.${iv}`],
      ['too many parts', `${token}.extra`],
      ['wrong version', `v2.old.${iv}.${sealed}`],
      ['missing version', `.old.${iv}.${sealed}`],
      ['empty kid', `v1..${iv}.${sealed}`],
      ['invalid kid', `v1.o+d.${iv}.${sealed}`],
      ['short iv', `v1.old.${iv.slice(0, 12)}.${sealed}`],
      ['long iv', `v1.old.${iv}AAAA.${sealed}`],
      ['padded iv', `v1.old.${iv}==.${sealed}`],
      ['iv with non-base64url characters', `v1.old.${iv.slice(0, 15)}+.${sealed}`],
      ['empty ciphertext', `v1.old.${iv}.`],
      ['ciphertext shorter than a tag', `v1.old.${iv}.${Buffer.alloc(15).toString('base64url')}`],
      ['ciphertext with non-base64url characters', `v1.old.${iv}.${sealed.slice(0, -1)}/`],
      ['standard base64 padding', `v1.old.${iv}.${sealed}=`],
      ['surrounding whitespace', ` ${token} `],
    ])('rejects a token with %s', (_label, malformed) => {
      expect(decryptError(box, malformed).message).toMatch(/^malformed token: /);
    });

    it('rejects a non-canonical base64url encoding', () => {
      const last = sealed.length - 1;
      const bits = (sealed.length * 6) % 8;
      expect(bits).toBeGreaterThan(0);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const index = alphabet.indexOf(sealed[last]);
      const sameBytes = sealed.slice(0, last) + alphabet[index | 1];
      expect(Buffer.from(sameBytes, 'base64url')).toEqual(Buffer.from(sealed, 'base64url'));
      expect(sameBytes).not.toBe(sealed);
      expect(decryptError(box, replacePart(token, 3, sameBytes)).message).toBe('malformed token: invalid ciphertext');
    });

    it('rejects non-string input', () => {
      expect(decryptError(box, undefined as unknown as string).message).toBe('malformed token: not a string');
      expect(decryptError(box, 42 as unknown as string).message).toBe('malformed token: not a string');
    });
  });
});
