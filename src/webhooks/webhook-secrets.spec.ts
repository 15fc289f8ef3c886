import { generateKeyringEntry, parseKeyring } from '../../libs/config';
import { SecretBox } from '../../libs/crypto';
import { generateWebhookSecret, secretKeyBytes, WebhookSecrets } from './webhook-secrets';

describe('webhook secrets', () => {
  const secrets = new WebhookSecrets(new SecretBox(parseKeyring(generateKeyringEntry('k1'))));
  const org = '11111111-1111-4111-8111-111111111111';
  const endpoint = '22222222-2222-4222-8222-222222222222';

  it('generates whsec_ + base64 of 32 random bytes', () => {
    const s = generateWebhookSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKeyBytes(s)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(s);
  });

  it('decodes the key bytes after the prefix', () => {
    const bytes = Buffer.alloc(32, 7);
    expect(secretKeyBytes(`whsec_${bytes.toString('base64')}`).equals(bytes)).toBe(true);
  });

  it('seals and opens, bound to org and endpoint', () => {
    const s = generateWebhookSecret();
    const sealed = secrets.seal(org, endpoint, s);
    expect(sealed).not.toContain(s.slice(6));
    expect(secrets.open(org, endpoint, sealed)).toBe(s);
    expect(() => secrets.open(org, org, sealed)).toThrow();
    expect(() => secrets.open(endpoint, endpoint, sealed)).toThrow();
  });
});
