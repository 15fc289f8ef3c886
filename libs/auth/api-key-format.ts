import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';

/**
 * API keys look like `cops_` + 30 random base62 characters + 6 base62 characters of CRC32
 * over those 30. The fixed prefix and the checksum let secret scanners (and our own guard)
 * recognise a real key offline with almost no false positives, without any lookup.
 */
export const API_KEY_PREFIX = 'cops_';
export const API_KEY_RANDOM_LENGTH = 30;
export const API_KEY_CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH;
/** Characters of the key shown in listings to tell keys apart; 7 random characters after the prefix. */
export const API_KEY_DISPLAY_PREFIX_LENGTH = 12;

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Pattern for secret scanners: a key anywhere in a text. Without the g flag on purpose, since
 * a shared global RegExp keeps lastIndex between calls; scanners add flags as they need.
 */
export const API_KEY_PATTERN = /\bcops_[0-9A-Za-z]{36}\b/;
const EXACT_SHAPE = /^cops_[0-9A-Za-z]{36}$/;

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32/IEEE (as zlib), table-driven; used where zlib.crc32 is missing (Node < 20.15). */
export function crc32Portable(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32/IEEE as an unsigned 32-bit integer. */
export const crc32: (data: string | Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) >>> 0 : crc32Portable;

/** Fixed-width base62, left-padded with '0'; 62^6 > 2^32, so six characters hold any CRC32. */
function checksumOf(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < API_KEY_CHECKSUM_LENGTH; i++) {
    out = BASE62_ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Uniform base62 characters by rejection sampling: bytes >= 248 (4 × 62) are dropped, so
 * `byte % 62` favours no character.
 */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62_ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export interface GeneratedApiKey {
  /** The full key; shown to the user once and never stored. */
  key: string;
  /** First 12 characters, stored to identify the key in listings. */
  prefix: string;
  /** Last 4 characters, stored for display. */
  last4: string;
  /** Hex SHA-256 of the key; what the database stores and looks up. */
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const body = randomBase62(API_KEY_RANDOM_LENGTH);
  const key = `${API_KEY_PREFIX}${body}${checksumOf(body)}`;
  return {
    key,
    prefix: key.slice(0, API_KEY_DISPLAY_PREFIX_LENGTH),
    last4: key.slice(-4),
    hash: hashApiKey(key),
  };
}

/**
 * Hex SHA-256. A plain fast hash is enough here because the key carries ~178 bits of
 * randomness; there is nothing for a slow password hash to protect against.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Format and checksum are valid; lets callers reject garbage before any database lookup. */
export function looksLikeApiKey(candidate: string): boolean {
  if (typeof candidate !== 'string' || candidate.length !== API_KEY_LENGTH || !EXACT_SHAPE.test(candidate)) {
    return false;
  }
  const body = candidate.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + API_KEY_RANDOM_LENGTH);
  return checksumOf(body) === candidate.slice(-API_KEY_CHECKSUM_LENGTH);
}
