import { randomBytes } from 'node:crypto';
import {
  parseBoolean,
  parseByteSize,
  parseEnum,
  parseHttpUrl,
  parseInteger,
  parseOrigins,
  parsePostgresUrl,
  parseSecret,
} from './env-parsers';

describe('parseInteger', () => {
  const port = parseInteger(1, 65535);

  it('accepts integers within the range, bounds included', () => {
    expect(port('1')).toBe(1);
    expect(port('65535')).toBe(65535);
    expect(port(' 3000 ')).toBe(3000);
    expect(parseInteger(-10, 10)('-5')).toBe(-5);
    expect(parseInteger(0, 10)('0')).toBe(0);
  });

  it('rejects values outside the range', () => {
    expect(() => port('0')).toThrow('must be between 1 and 65535, got 0');
    expect(() => port('65536')).toThrow('must be between 1 and 65535, got 65536');
    expect(() => port('-1')).toThrow(/between/);
  });

  it.each(['', 'abc', '3.5', '1e3', '0x10', '3000ms', '+5', '1 000'])('rejects non-integer %p', (raw) => {
    expect(() => port(raw)).toThrow('must be an integer');
  });
});

describe('parseBoolean', () => {
  it.each(['true', 'TRUE', '1', 'yes', 'on', ' On '])('%p is true', (raw) => {
    expect(parseBoolean(raw)).toBe(true);
  });

  it.each(['false', 'False', '0', 'no', 'off'])('%p is false', (raw) => {
    expect(parseBoolean(raw)).toBe(false);
  });

  it.each(['', 'y', 'enabled', '2', 'truee'])('rejects %p', (raw) => {
    expect(() => parseBoolean(raw)).toThrow('must be true or false');
  });
});

describe('parseEnum', () => {
  const level = parseEnum(['info', 'debug'] as const);

  it('accepts listed values, trimmed', () => {
    expect(level('info')).toBe('info');
    expect(level(' debug ')).toBe('debug');
  });

  it('rejects other values and names the allowed ones', () => {
    expect(() => level('INFO')).toThrow('must be one of info, debug, got "INFO"');
    expect(() => level('trace')).toThrow(/must be one of/);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1mb', 1024 * 1024],
    ['1MB', 1024 * 1024],
    ['512kb', 512 * 1024],
    ['1kb', 1024],
    ['2048', 2048],
    ['2048b', 2048],
    ['1 mb', 1024 * 1024],
    ['100mb', 100 * 1024 * 1024],
  ])('%p is %p bytes', (raw, bytes) => {
    expect(parseByteSize(raw)).toBe(bytes);
  });

  it.each(['100', '1023b', '0', '101mb', '102401kb'])('rejects out-of-range %p', (raw) => {
    expect(() => parseByteSize(raw)).toThrow('must be between 1kb and 100mb');
  });

  it.each(['', 'mb', '1.5mb', '-1mb', '1gb', 'lots', '1 m'])('rejects malformed %p', (raw) => {
    expect(() => parseByteSize(raw)).toThrow('must be a size like 1mb, 512kb or 1048576');
  });
});

describe('parseOrigins', () => {
  it('returns "*" for a wildcard', () => {
    expect(parseOrigins('*')).toBe('*');
    expect(parseOrigins(' * ')).toBe('*');
  });

  it('splits and trims a comma-separated list, skipping empty items', () => {
    expect(parseOrigins('https://app.example.com, http://localhost:5173,')).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it('rejects an origin with a trailing slash', () => {
    expect(() => parseOrigins('https://app.example.com/')).toThrow(/no trailing slash/);
  });

  it('rejects an origin with a path, a non-http scheme or no scheme', () => {
    expect(() => parseOrigins('https://app.example.com/app')).toThrow(/not an origin/);
    expect(() => parseOrigins('ftp://files.example.com')).toThrow(/not an origin/);
    expect(() => parseOrigins('app.example.com')).toThrow(/not an origin/);
  });

  it('rejects "*" mixed into a list', () => {
    expect(() => parseOrigins('https://app.example.com,*')).toThrow(/"\*" is not an origin/);
  });
});

describe('parsePostgresUrl', () => {
  it('accepts postgres:// and postgresql:// URLs naming a database', () => {
    expect(parsePostgresUrl('postgres://u:p@db:5432/calmops')).toBe('postgres://u:p@db:5432/calmops');
    expect(parsePostgresUrl('postgresql://u@db/calmops')).toBe('postgresql://u@db/calmops');
  });

  it('rejects other schemes, missing databases and non-URLs', () => {
    expect(() => parsePostgresUrl('mysql://u:p@db/calmops')).toThrow('must use the postgres:// scheme');
    expect(() => parsePostgresUrl('postgres://u:p@db:5432/')).toThrow('must name a database');
    expect(() => parsePostgresUrl('postgres://u:p@db:5432')).toThrow('must name a database');
    expect(() => parsePostgresUrl('db:5432/calmops')).toThrow();
    expect(() => parsePostgresUrl('not a url')).toThrow('must be a URL like');
  });
});

describe('parseHttpUrl', () => {
  it.each(['https://auth.example.com/.well-known/jwks.json', 'http://localhost:8080/jwks', 'https://auth.example.com'])(
    'accepts %p unchanged',
    (raw) => {
      expect(parseHttpUrl(raw)).toBe(raw);
    },
  );

  it.each(['ftp://auth.example.com/jwks.json', 'file:///etc/jwks.json', 'postgres://db/calmops'])(
    'rejects the non-http scheme of %p',
    (raw) => {
      expect(() => parseHttpUrl(raw)).toThrow('must be an http(s) URL');
    },
  );

  it.each(['', 'auth.example.com/jwks.json', '/jwks.json', 'not a url'])('rejects non-URL %p', (raw) => {
    expect(() => parseHttpUrl(raw)).toThrow('must be an http(s) URL');
  });
});

describe('parseSecret', () => {
  const secret32 = parseSecret(32);

  it('accepts random values of at least the minimum length, unchanged', () => {
    const exact = randomBytes(24).toString('base64url');
    expect(exact).toHaveLength(32);
    expect(secret32(exact)).toBe(exact);
    const long = randomBytes(48).toString('base64');
    expect(secret32(long)).toBe(long);
  });

  it('rejects a value one character short and names the minimum', () => {
    const short = randomBytes(24).toString('base64url').slice(1);
    expect(() => secret32(short)).toThrow('must be at least 32 characters');
    expect(() => parseSecret(64)(randomBytes(24).toString('base64url'))).toThrow('must be at least 64 characters');
    expect(() => secret32('')).toThrow('must be at least 32 characters');
  });

  it('rejects long values made of fewer than 10 distinct characters', () => {
    for (const value of ['a'.repeat(64), randomBytes(3).toString('hex').repeat(11), '012345678'.repeat(4)]) {
      expect(() => secret32(value)).toThrow('too repetitive');
    }
  });

  it.each(['changeme', 'CHANGEME', 'secret', 'Password', 'example'])('rejects a %p... placeholder', (prefix) => {
    expect(() => secret32(`${prefix}-${randomBytes(24).toString('hex')}`)).toThrow('looks like a placeholder');
  });

  it('never echoes the value in its messages', () => {
    const values = [
      randomBytes(12).toString('hex'),
      randomBytes(4).toString('hex').repeat(6),
      `secret-${randomBytes(24).toString('base64url')}`,
    ];
    for (const value of values) {
      let message = '';
      try {
        secret32(value);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(value);
      expect(message).not.toContain(value.slice(0, 8));
    }
  });
});
