import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Keyring, KID_PATTERN } from '../config';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * A token could not be decrypted. The message says why in general terms only: it never
 * carries plaintext, key material or the token itself, so it is safe to log.
 */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

interface ParsedToken {
  kid: string;
  iv: Buffer;
  sealed: Buffer;
}

/** Only canonical encodings are accepted, so a token has exactly one spelling. */
function decodeBase64Url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parseToken(token: string): ParsedToken {
  if (typeof token !== 'string') throw new DecryptionError('malformed token: not a string');
  const parts = token.split('.');
  if (parts.length !== 4) throw new DecryptionError('malformed token: expected v1.<kid>.<iv>.<ciphertext>');
  const [version, kid, ivText, sealedText] = parts;
  if (version !== VERSION) throw new DecryptionError('malformed token: unsupported version');
  if (!KID_PATTERN.test(kid)) throw new DecryptionError('malformed token: invalid key id');
  const iv = decodeBase64Url(ivText);
  if (!iv || iv.length !== IV_BYTES) throw new DecryptionError('malformed token: invalid iv');
  const sealed = decodeBase64Url(sealedText);
  if (!sealed || sealed.length < TAG_BYTES) throw new DecryptionError('malformed token: invalid ciphertext');
  return { kid, iv, sealed };
}

/**
 * The version and kid are authenticated along with the caller's associated data, so a token
 * cannot be relabelled. The header has a fixed shape (the kid contains no dot), so the
 * concatenation is unambiguous.
 */
function associatedData(kid: string, aad: string | undefined): Buffer {
  return Buffer.from(`${VERSION}.${kid}.${aad ?? ''}`, 'utf8');
}

/**
 * Authenticated encryption of secrets at rest (AES-256-GCM, random 96-bit IV per message).
 *
 * Pass associated data that identifies where the ciphertext belongs, e.g.
 * `${orgId}:webhooks.secret`: decryption then fails if the value is copied to another row or
 * column. Omitted and empty associated data are the same.
 */
export class SecretBox {
  constructor(private readonly keyring: Keyring) {}

  /** Returns `v1.<kid>.<iv>.<ciphertext+tag>`, all base64url, encrypted with the newest key. */
  encrypt(plaintext: string, aad?: string): string {
    const kid = this.keyring.primaryKid;
    const key = this.keyring.key(kid) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, aad));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${kid}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** Throws DecryptionError for a malformed or tampered token, an unknown kid or wrong aad. */
  decrypt(token: string, aad?: string): string {
    const { kid, iv, sealed } = parseToken(token);
    const key = this.keyring.key(kid);
    if (!key) throw new DecryptionError(`unknown key id "${kid}"`);
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(kid, aad));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
      return plain.toString('utf8');
    } catch {
      throw new DecryptionError('authentication failed: token was altered, or key or associated data is wrong');
    }
  }

  /**
   * True when the token was sealed by a key other than the newest (including one no longer
   * in the keyring), i.e. a rotation job should decrypt and encrypt it again.
   * Throws DecryptionError for a malformed token.
   */
  needsReencryption(token: string): boolean {
    return parseToken(token).kid !== this.keyring.primaryKid;
  }
}
