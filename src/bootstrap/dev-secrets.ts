import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppConfig } from '../../libs/config';
import { devSecretsFile, generateKeyringEntry } from '../../libs/config';

interface DevSecrets {
  JWT_SECRET: string;
  DATA_ENCRYPTION_KEYS: string;
}

/**
 * Outside production, secrets that are not set are generated once into DATA_DIR (git-ignored,
 * mode 0600) so `npm start` works with no setup and tokens survive restarts. Production never
 * gets here: its config validation requires them.
 */
export function withDevSecrets(config: AppConfig): AppConfig {
  if (config.production) return config;
  if (config.get('JWT_SECRET') && config.get('DATA_ENCRYPTION_KEYS')) return config;
  const dir = resolve(config.get('DATA_DIR'));
  const file = devSecretsFile(dir);
  let secrets: DevSecrets;
  if (existsSync(file)) {
    secrets = JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    secrets = { JWT_SECRET: randomBytes(48).toString('base64url'), DATA_ENCRYPTION_KEYS: generateKeyringEntry() };
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return config.with({
    JWT_SECRET: config.get('JWT_SECRET') ?? secrets.JWT_SECRET,
    DATA_ENCRYPTION_KEYS: config.get('DATA_ENCRYPTION_KEYS') ?? secrets.DATA_ENCRYPTION_KEYS,
  });
}
