import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** AES-256 needs exactly this many bytes of key. */
export const KEY_BYTES = 32;
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface KeyringEntry {
  kid: string;
  key: Buffer;
}

/**
 * Data-encryption keys by key id. The first key is the newest: it encrypts, every key
 * decrypts, so a key is rotated by prepending a new one and re-encrypting at leisure.
 *
 * Key material lives in a private field so that logging or serialising a Keyring (or an
 * object holding one) cannot print it.
 */
export class Keyring {
  readonly #keys = new Map<string, Buffer>();
  /** Key ids, newest first. */
  readonly kids: readonly string[];

  constructor(entries: readonly KeyringEntry[]) {
    if (entries.length === 0) throw new Error('keyring must contain at least one key');
    entries.forEach(({ kid, key }, i) => {
      const where = `keyring entry ${i + 1}`;
      if (!KID_PATTERN.test(kid)) throw new Error(`${where}: key id must match ${KID_PATTERN.source}`);
      if (this.#keys.has(kid)) throw new Error(`${where}: duplicate key id "${kid}"`);
      if (key.length !== KEY_BYTES) {
        throw new Error(`${where} (kid "${kid}"): key must be ${KEY_BYTES} bytes, got ${key.length}`);
      }
      // Reusing key material under a new kid would look like a rotation without being one.
      for (const [otherKid, other] of this.#keys) {
        if (other.equals(key)) throw new Error(`${where} (kid "${kid}"): same key as kid "${otherKid}"`);
      }
      // Copied so that later changes to the caller's buffer cannot alter the keyring.
      this.#keys.set(kid, Buffer.from(key));
    });
    this.kids = Object.freeze(entries.map((e) => e.kid));
  }

  /** Id of the key that encrypts. */
  get primaryKid(): string {
    return this.kids[0];
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** Key bytes for a kid, or undefined when the keyring does not hold it. */
  key(kid: string): Buffer | undefined {
    return this.#keys.get(kid);
  }

  toJSON(): { kids: readonly string[] } {
    return { kids: this.kids };
  }

  [inspect.custom](): string {
    return `Keyring { kids: [${this.kids.map((k) => `'${k}'`).join(', ')}] }`;
  }
}

const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Decodes standard or url-safe base64, refusing anything Buffer.from would silently skip or
 * truncate (stray characters, mixed alphabets, non-canonical trailing bits), so a typo in a
 * key is reported rather than turned into a different key.
 */
function decodeStrictBase64(text: string): Buffer | undefined {
  const alphabet = STANDARD_BASE64.test(text) ? 'base64' : URL_SAFE_BASE64.test(text) ? 'base64url' : undefined;
  if (!alphabet) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (text.length !== unpadded.length && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(unpadded, alphabet);
  const canonical = bytes.toString('base64url');
  const given = alphabet === 'base64' ? unpadded.replace(/\+/g, '-').replace(/\//g, '_') : unpadded;
  return canonical === given ? bytes : undefined;
}

/**
 * Parses `DATA_ENCRYPTION_KEYS`: comma-separated `kid:base64key` entries, newest first.
 * Error messages name the entry position and kid but never echo key material; an entry
 * without a colon is not echoed at all because it may be a bare key.
 */
export function parseKeyring(raw: string): Keyring {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new Error('keyring is empty: expected comma-separated kid:base64key entries');
  }
  // Blank segments are skipped so trailing commas and line-wrapped values still parse.
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const seen = new Set<string>();
  const entries = parts.map((part, i): KeyringEntry => {
    const where = `keyring entry ${i + 1}`;
    const colon = part.indexOf(':');
    if (colon < 0) throw new Error(`${where}: expected kid:base64key`);
    const kid = part.slice(0, colon).trim();
    const encoded = part.slice(colon + 1).trim();
    if (!KID_PATTERN.test(kid)) throw new Error(`${where}: key id must match ${KID_PATTERN.source}`);
    if (seen.has(kid)) throw new Error(`${where}: duplicate key id "${kid}"`);
    seen.add(kid);
    if (encoded === '') throw new Error(`${where} (kid "${kid}"): key is missing`);
    const key = decodeStrictBase64(encoded);
    if (!key) throw new Error(`${where} (kid "${kid}"): key is not valid base64`);
    if (key.length !== KEY_BYTES) {
      throw new Error(`${where} (kid "${kid}"): key must decode to ${KEY_BYTES} bytes, got ${key.length}`);
    }
    return { kid, key };
  });
  return new Keyring(entries);
}

/**
 * A fresh `kid:base64key` entry to prepend to DATA_ENCRYPTION_KEYS. The default kid carries
 * the UTC date so operators can see which key is older, and a random suffix so two keys made
 * the same day cannot clash.
 */
export function generateKeyringEntry(kid?: string): string {
  const id = kid ?? `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
  if (!KID_PATTERN.test(id)) throw new Error(`key id must match ${KID_PATTERN.source}`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}
