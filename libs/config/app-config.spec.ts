import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig, ConfigValidationError, ENV_SPEC } from './app-config';

const PROD_DB = {
  DATABASE_URL: 'postgres://calmops_app:pw@db:5432/calmops',
  DATABASE_SYSTEM_URL: 'postgres://calmops_sys:pw@db:5432/calmops',
};
const PROD = { NODE_ENV: 'production', ...PROD_DB, CORS_ORIGINS: 'https://app.example.com' };

/** Loads and expects a ConfigValidationError; returns it. */
function loadError(env: Record<string, string | undefined>): ConfigValidationError {
  try {
    AppConfig.load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected AppConfig.load to throw');
}

describe('AppConfig.load', () => {
  it('loads the development defaults from an empty environment', () => {
    const config = AppConfig.load({});
    expect(config.get('NODE_ENV')).toBe('development');
    expect(config.production).toBe(false);
    expect(config.get('PORT')).toBe(3000);
    expect(config.get('HOST')).toBe('0.0.0.0');
    expect(config.get('HEALTH_PORT')).toBe(3001);
    expect(config.get('DATABASE_URL')).toBeUndefined();
    expect(config.get('DATABASE_ADMIN_URL')).toBeUndefined();
    expect(config.get('DATABASE_SYSTEM_URL')).toBeUndefined();
    expect(config.embeddedDatabase).toBe(true);
    expect(config.get('DATABASE_POOL_SIZE')).toBe(10);
    expect(config.get('EMBEDDED_PG_PORT')).toBe(5433);
    expect(config.get('DATA_DIR')).toBe('.data');
    expect(config.get('LOG_LEVEL')).toBe('info');
    expect(config.get('HTTP_BODY_LIMIT')).toBe(1024 * 1024);
    expect(config.get('CORS_ORIGINS')).toBe('*');
    expect(config.get('SWAGGER_ENABLED')).toBe(true);
    expect(config.get('SHUTDOWN_DELAY_MS')).toBe(0);
    expect(config.get('SHUTDOWN_TIMEOUT_MS')).toBe(25000);
    expect(config.get('QUEUE_POLL_INTERVAL_SECONDS')).toBe(1);
  });

  it('treats an empty string as unset', () => {
    const config = AppConfig.load({ PORT: '', DATABASE_URL: '' });
    expect(config.get('PORT')).toBe(3000);
    expect(config.embeddedDatabase).toBe(true);
  });

  it('parses given values', () => {
    const config = AppConfig.load({
      PORT: '8080',
      DATABASE_URL: PROD_DB.DATABASE_URL,
      HTTP_BODY_LIMIT: '512kb',
      CORS_ORIGINS: 'https://a.example.com, https://b.example.com',
      SWAGGER_ENABLED: 'off',
    });
    expect(config.get('PORT')).toBe(8080);
    expect(config.get('DATABASE_URL')).toBe(PROD_DB.DATABASE_URL);
    expect(config.embeddedDatabase).toBe(false);
    expect(config.get('HTTP_BODY_LIMIT')).toBe(512 * 1024);
    expect(config.get('CORS_ORIGINS')).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(config.get('SWAGGER_ENABLED')).toBe(false);
  });

  it('reports every bad variable in one ConfigValidationError', () => {
    const err = loadError({
      PORT: '70000',
      DATABASE_URL: 'mysql://u:p@db:3306/calmops',
      HTTP_BODY_LIMIT: '1gb',
      LOG_LEVEL: 'verbose',
    });
    expect(err.problems).toHaveLength(4);
    for (const name of ['PORT', 'DATABASE_URL', 'HTTP_BODY_LIMIT', 'LOG_LEVEL']) {
      expect(err.message).toContain(`${name}:`);
    }
    expect(err.message).toContain('postgres://');
    // Variables that are fine are not blamed.
    expect(err.message).not.toContain('HEALTH_PORT');
  });

  it('requires DATABASE_URL, DATABASE_SYSTEM_URL and CORS_ORIGINS in production', () => {
    const err = loadError({ NODE_ENV: 'production' });
    expect(err.problems).toEqual([
      'DATABASE_URL: required when NODE_ENV=production',
      'DATABASE_SYSTEM_URL: required when NODE_ENV=production',
      'CORS_ORIGINS: required when NODE_ENV=production',
    ]);
  });

  it('names only the missing production variable', () => {
    const err = loadError({ ...PROD, DATABASE_SYSTEM_URL: undefined });
    expect(err.problems).toEqual(['DATABASE_SYSTEM_URL: required when NODE_ENV=production']);
  });

  it('refuses CORS_ORIGINS=* in production', () => {
    const err = loadError({ ...PROD, CORS_ORIGINS: '*' });
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(/CORS_ORIGINS: .*"\*"/);
  });

  it('accepts CORS_ORIGINS=* outside production', () => {
    expect(AppConfig.load({ NODE_ENV: 'test', CORS_ORIGINS: '*' }).get('CORS_ORIGINS')).toBe('*');
  });

  it('applies the production defaults', () => {
    const config = AppConfig.load(PROD);
    expect(config.production).toBe(true);
    expect(config.get('SWAGGER_ENABLED')).toBe(false);
    expect(config.get('SHUTDOWN_DELAY_MS')).toBe(5000);
    expect(config.get('CORS_ORIGINS')).toEqual(['https://app.example.com']);
    expect(config.embeddedDatabase).toBe(false);
  });

  it('lets production override its defaults', () => {
    const config = AppConfig.load({ ...PROD, SWAGGER_ENABLED: 'true', SHUTDOWN_DELAY_MS: '0' });
    expect(config.get('SWAGGER_ENABLED')).toBe(true);
    expect(config.get('SHUTDOWN_DELAY_MS')).toBe(0);
  });

  it('uses the development defaults for NODE_ENV=development and test', () => {
    for (const NODE_ENV of ['development', 'test']) {
      const config = AppConfig.load({ NODE_ENV });
      expect(config.get('SHUTDOWN_DELAY_MS')).toBe(0);
      expect(config.get('SWAGGER_ENABLED')).toBe(true);
    }
  });

  it('rejects an unknown NODE_ENV', () => {
    expect(loadError({ NODE_ENV: 'staging' }).problems).toEqual([expect.stringMatching(/^NODE_ENV: /)]);
  });
});

describe('AppConfig.with', () => {
  it('returns a copy with values replaced and leaves the original alone', () => {
    const base = AppConfig.load({});
    const next = base.with({ DATABASE_URL: PROD_DB.DATABASE_URL, PORT: 4000 });
    expect(next).not.toBe(base);
    expect(next.get('DATABASE_URL')).toBe(PROD_DB.DATABASE_URL);
    expect(next.get('PORT')).toBe(4000);
    expect(next.embeddedDatabase).toBe(false);
    expect(next.get('LOG_LEVEL')).toBe('info');
    expect(base.get('DATABASE_URL')).toBeUndefined();
    expect(base.get('PORT')).toBe(3000);
    expect(base.embeddedDatabase).toBe(true);
  });
});

describe('.env.example', () => {
  const EXTRA = ['APP_ROLE', 'TEST_DATABASE_URL'];
  const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
  /** `NAME=value` or `# NAME=value` lines, in file order. */
  const entries = text
    .split(/\r?\n/)
    .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1], value: m[2].trim() }));
  const names = entries.map((e) => e.name);

  it('lists every ENV_SPEC variable once, in ENV_SPEC order', () => {
    const specNames = Object.keys(ENV_SPEC);
    expect(names.filter((n) => !EXTRA.includes(n))).toEqual(specNames);
  });

  it('lists no variable outside ENV_SPEC except APP_ROLE and TEST_DATABASE_URL', () => {
    const unknown = names.filter((n) => !(n in ENV_SPEC));
    expect(unknown.sort()).toEqual([...EXTRA].sort());
  });

  it('shows the development default of each variable (empty when it has none)', () => {
    for (const { name, value } of entries) {
      if (!(name in ENV_SPEC)) continue;
      const d = ENV_SPEC[name as keyof typeof ENV_SPEC].default as
        string | ((production: boolean) => string | undefined) | undefined;
      const expected = (typeof d === 'function' ? d(false) : d) ?? '';
      expect(`${name}=${value}`).toBe(`${name}=${expected}`);
    }
  });

  it('keeps every variable commented out, so copying it to .env changes nothing', () => {
    const active = text.split(/\r?\n/).filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line));
    expect(active).toEqual([]);
  });
});
