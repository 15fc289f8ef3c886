import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../libs/crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks secret format). */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The HMAC key: the base64-decoded bytes after `whsec_` (a secret without the prefix is decoded whole). */
export function secretKeyBytes(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** Associated data binding a sealed secret to its org and endpoint row. */
export function endpointSecretAad(orgId: string, endpointId: string): string {
  return `${orgId}:webhook_endpoint:${endpointId}`;
}

/**
 * Endpoint signing secrets at rest. The ciphertext is bound to the org and endpoint id, so
 * copying it to another row (or org) makes it undecryptable.
 */
@Injectable()
export class WebhookSecrets {
  constructor(private readonly box: SecretBox) {}

  seal(orgId: string, endpointId: string, secret: string): string {
    return this.box.encrypt(secret, endpointSecretAad(orgId, endpointId));
  }

  /** Throws DecryptionError when the token was altered or belongs to another row. */
  open(orgId: string, endpointId: string, ciphertext: string): string {
    return this.box.decrypt(ciphertext, endpointSecretAad(orgId, endpointId));
  }
}
