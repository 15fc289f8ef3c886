import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig, ConfigValidationError, ENV_SPEC } from './app-config';

const PROD_DB = {
  DATABASE_URL: 'postgres://calmops_app:pw@db:5432/calmops',
  DATABASE_SYSTEM_URL: 'postgres://calmops_sys:pw@db:5432/calmops',
};
/** Generated per run: a literal secret here would be a committed secret. */
const JWT_SECRET = randomBytes(48).toString('base64url');
const keyEntry = (kid: string, bytes = 32) => `${kid}:${randomBytes(bytes).toString('base64')}`;
const DATA_ENCRYPTION_KEYS = keyEntry('k1');
const PROD = {
  NODE_ENV: 'production',
  ...PROD_DB,
  CORS_ORIGINS: 'https://app.example.com',
  JWT_SECRET,
  DATA_ENCRYPTION_KEYS,
};
/** Production with JWKS instead of a shared secret. */
const PROD_JWKS = {
  ...PROD,
  JWT_SECRET: undefined,
  JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
  JWT_ISSUER: 'https://auth.example.com/',
  JWT_AUDIENCE: 'calmops-api',
};

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
    // Generated into DATA_DIR by src/bootstrap/dev-secrets.ts, not by the loader.
    expect(config.get('JWT_SECRET')).toBeUndefined();
    expect(config.get('DATA_ENCRYPTION_KEYS')).toBeUndefined();
    expect(config.get('JWT_JWKS_URL')).toBeUndefined();
    expect(config.get('JWKS_MIN_REFRESH_INTERVAL_MS')).toBe(30000);
    expect(config.get('API_KEY_CACHE_TTL_MS')).toBe(5000);
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
      DATABASE_SYSTEM_URL: PROD_DB.DATABASE_SYSTEM_URL,
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

  it('requires the database URLs, CORS_ORIGINS, DATA_ENCRYPTION_KEYS and a JWT setting in production', () => {
    const err = loadError({ NODE_ENV: 'production' });
    expect(err.problems).toEqual([
      'DATABASE_URL: required when NODE_ENV=production',
      'DATABASE_SYSTEM_URL: required when NODE_ENV=production',
      'CORS_ORIGINS: required when NODE_ENV=production',
      'DATA_ENCRYPTION_KEYS: required when NODE_ENV=production',
      'JWT_SECRET or JWT_JWKS_URL: one is required when NODE_ENV=production',
    ]);
  });

  it('names only the missing production variable', () => {
    const err = loadError({ ...PROD, DATABASE_SYSTEM_URL: undefined });
    expect(err.problems).toEqual([expect.stringMatching(/^DATABASE_SYSTEM_URL: required when DATABASE_URL is set/)]);
  });

  it('outside production too, an external database needs the system role, said before anything connects', () => {
    const err = loadError({ DATABASE_URL: PROD_DB.DATABASE_URL });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^DATABASE_SYSTEM_URL: required when DATABASE_URL is set/);
    expect(err.problems[0]).toMatch(/BYPASSRLS/);
    expect(err.problems[0]).toMatch(/GRANT CREATE ON DATABASE/);
  });

  it('names only DATA_ENCRYPTION_KEYS when it alone is missing in production', () => {
    for (const DATA_ENCRYPTION_KEYS of [undefined, '']) {
      const err = loadError({ ...PROD, DATA_ENCRYPTION_KEYS });
      expect(err.problems).toEqual(['DATA_ENCRYPTION_KEYS: required when NODE_ENV=production']);
    }
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
    expect(config.get('JWT_SECRET')).toBe(JWT_SECRET);
    expect(config.get('DATA_ENCRYPTION_KEYS')).toBe(DATA_ENCRYPTION_KEYS);
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

describe('AppConfig.load: bearer tokens', () => {
  it('requires JWT_SECRET or JWT_JWKS_URL in production and names both', () => {
    for (const blank of [undefined, '']) {
      const err = loadError({ ...PROD, JWT_SECRET: blank });
      expect(err.problems).toEqual(['JWT_SECRET or JWT_JWKS_URL: one is required when NODE_ENV=production']);
    }
  });

  it('accepts JWKS mode in production without JWT_SECRET', () => {
    const config = AppConfig.load(PROD_JWKS);
    expect(config.get('JWT_SECRET')).toBeUndefined();
    expect(config.get('JWT_JWKS_URL')).toBe(PROD_JWKS.JWT_JWKS_URL);
    expect(config.get('JWT_ISSUER')).toBe(PROD_JWKS.JWT_ISSUER);
    expect(config.get('JWT_AUDIENCE')).toBe(PROD_JWKS.JWT_AUDIENCE);
    expect(config.get('JWKS_MIN_REFRESH_INTERVAL_MS')).toBe(30000);
  });

  it.each([
    ['JWT_ISSUER', { JWT_ISSUER: undefined }],
    ['JWT_AUDIENCE', { JWT_AUDIENCE: '' }],
    ['both', { JWT_ISSUER: undefined, JWT_AUDIENCE: undefined }],
  ])('requires JWT_ISSUER and JWT_AUDIENCE with JWT_JWKS_URL (missing %s)', (_, missing) => {
    const expected = ['JWT_ISSUER and JWT_AUDIENCE: both are required when JWT_JWKS_URL is set'];
    expect(loadError({ ...PROD_JWKS, ...missing }).problems).toEqual(expected);
    // The rule is not a production one: a JWKS without issuer and audience is never safe.
    const { JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE } = { ...PROD_JWKS, ...missing };
    expect(loadError({ JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE }).problems).toEqual(expected);
  });

  it('rejects a JWT_JWKS_URL that is not an http(s) URL', () => {
    const problem = 'JWT_JWKS_URL: must be an http(s) URL';
    for (const JWT_JWKS_URL of ['auth.example.com/jwks.json', 'ftp://auth.example.com/jwks.json']) {
      expect(loadError({ ...PROD_JWKS, JWT_JWKS_URL }).problems).toContain(problem);
      const { JWT_ISSUER, JWT_AUDIENCE } = PROD_JWKS;
      expect(loadError({ JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE }).problems).toEqual([problem]);
    }
  });

  it.each([
    ['short', () => randomBytes(15).toString('hex'), 'JWT_SECRET: must be at least 32 characters'],
    ['repetitive', () => randomBytes(3).toString('hex').repeat(8), expect.stringMatching(/^JWT_SECRET: .*repetitive/)],
    [
      'placeholder',
      () => `changeme-${randomBytes(24).toString('hex')}`,
      expect.stringMatching(/^JWT_SECRET: .*placeholder/),
    ],
  ])('rejects a %s JWT_SECRET without echoing it', (_, make, problem) => {
    const secret = make();
    // Production may add that no usable JWT setting remains; the bad value is named either way.
    const prod = loadError({ ...PROD, JWT_SECRET: secret });
    expect(prod.problems).toContainEqual(problem);
    expect(prod.message).not.toContain(secret);
    const dev = loadError({ JWT_SECRET: secret });
    expect(dev.problems).toEqual([problem]);
    expect(dev.message).not.toContain(secret);
  });

  it('accepts a JWT_SECRET of exactly 32 random characters', () => {
    const secret = randomBytes(24).toString('base64url');
    expect(secret).toHaveLength(32);
    expect(AppConfig.load({ ...PROD, JWT_SECRET: secret }).get('JWT_SECRET')).toBe(secret);
  });
});

describe('AppConfig.load: DATA_ENCRYPTION_KEYS', () => {
  it('accepts several keys, newest first, and trims the value', () => {
    const keys = `${keyEntry('k2')}, ${DATA_ENCRYPTION_KEYS}`;
    expect(AppConfig.load({ ...PROD, DATA_ENCRYPTION_KEYS: ` ${keys} ` }).get('DATA_ENCRYPTION_KEYS')).toBe(keys);
  });

  it.each([
    ['a bare key without kid', () => randomBytes(32).toString('base64'), /expected kid:base64key/],
    ['a 16-byte key', () => keyEntry('k1', 16), /must decode to 32 bytes, got 16/],
    ['a key that is not base64', () => `k1:${randomBytes(32).toString('hex')}!`, /not valid base64/],
    ['a duplicate kid', () => `${keyEntry('k1')},${keyEntry('k1')}`, /duplicate key id "k1"/],
    ['a bad kid', () => keyEntry('k 1'), /key id must match/],
    ['a missing key', () => 'k1:', /key is missing/],
  ])('rejects %s without echoing key material', (_, make, pattern) => {
    const value = make();
    const err = loadError({ ...PROD, DATA_ENCRYPTION_KEYS: value });
    expect(err.problems).toEqual([expect.stringMatching(/^DATA_ENCRYPTION_KEYS: /)]);
    expect(err.problems[0]).toMatch(pattern);
    for (const part of value.split(/[,:]/).filter((p) => p.length > 4)) expect(err.message).not.toContain(part);
  });

  it('validates DATA_ENCRYPTION_KEYS outside production too', () => {
    expect(loadError({ DATA_ENCRYPTION_KEYS: keyEntry('k1', 16) }).problems).toEqual([
      expect.stringMatching(/^DATA_ENCRYPTION_KEYS: /),
    ]);
  });
});

describe('AppConfig.load: API keys and rate limits', () => {
  it('defaults the rate limits to 100 per IP per 15 min and 1000/10000/100000 per org per hour', () => {
    for (const env of [{}, PROD]) {
      const config = AppConfig.load(env);
      expect(config.get('RATE_LIMIT_IP_PER_15_MIN')).toBe(100);
      expect(config.get('RATE_LIMIT_FREE_PER_HOUR')).toBe(1000);
      expect(config.get('RATE_LIMIT_PRO_PER_HOUR')).toBe(10000);
      expect(config.get('RATE_LIMIT_ENTERPRISE_PER_HOUR')).toBe(100000);
    }
  });

  it('parses given rate limits and rejects zero or non-integers', () => {
    expect(AppConfig.load({ RATE_LIMIT_PRO_PER_HOUR: '25000' }).get('RATE_LIMIT_PRO_PER_HOUR')).toBe(25000);
    const err = loadError({ RATE_LIMIT_IP_PER_15_MIN: '0', RATE_LIMIT_FREE_PER_HOUR: '1.5' });
    expect(err.problems).toEqual([
      expect.stringMatching(/^RATE_LIMIT_IP_PER_15_MIN: must be between 1 and/),
      expect.stringMatching(/^RATE_LIMIT_FREE_PER_HOUR: must be an integer/),
    ]);
  });

  it('caps API_KEY_CACHE_TTL_MS at 5000 so a revocation is seen everywhere within 5 s', () => {
    expect(AppConfig.load({}).get('API_KEY_CACHE_TTL_MS')).toBe(5000);
    expect(AppConfig.load({ API_KEY_CACHE_TTL_MS: '5000' }).get('API_KEY_CACHE_TTL_MS')).toBe(5000);
    expect(AppConfig.load({ API_KEY_CACHE_TTL_MS: '0' }).get('API_KEY_CACHE_TTL_MS')).toBe(0);
    expect(loadError({ API_KEY_CACHE_TTL_MS: '5001' }).problems).toEqual([
      'API_KEY_CACHE_TTL_MS: must be between 0 and 5000, got 5001',
    ]);
    expect(loadError({ ...PROD, API_KEY_CACHE_TTL_MS: '60000' }).problems).toHaveLength(1);
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
