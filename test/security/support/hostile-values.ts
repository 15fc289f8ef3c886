import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import type { Schema } from './openapi';

/** A fixed seed: every run tries the same inputs, and a failure replays. */
const SEED = 20261204;

/** Strings a client should never get a 500 for: control characters, broken Unicode, extremes. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\u202Eevil',
  '\r\n\t\u0007',
  '=cmd|" /C calc"!A0',
  "'; DROP TABLE payroll_drivers; --",
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://127.0.0.1/x}',
  'x'.repeat(100_000),
  ...fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), { seed: SEED, numRuns: 8 }),
];

export const HOSTILE_NUMBERS: unknown[] = [
  -1,
  0,
  1.5,
  -0.0001,
  2 ** 31,
  2 ** 53 + 1,
  1e308,
  -1e308,
  '1e400',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
  ' 5 ',
];

export const HOSTILE_DATES: string[] = [
  '2025-02-30',
  '2025-13-01',
  '0000-00-00',
  '275760-09-14',
  '-271821-04-19',
  '2025-03-01T25:61:00Z',
  '99999-01-01',
  'yesterday',
];

export const HOSTILE_UUIDS: string[] = [
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000',
  '00000000-0000-0000-0000-0000000000000',
  'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ',
  '%00',
  '../../',
  'x'.repeat(5000),
];

/** Values of every other JSON type, and structures that are too big or too deep. */
export const WRONG_TYPES: unknown[] = [null, true, 12, 'text', [], [1, 2], {}, { a: { b: 1 } }];

function deep(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}
export const STRUCTURES: unknown[] = [deep(200), Array.from({ length: 20_000 }, (_, i) => i)];

/** Forged pagination cursors: garbage, out-of-range dates, injected text, a huge one. */
export const FORGED_CURSORS: string[] = [
  'not-base64!!',
  Buffer.from('garbage').toString('base64url'),
  Buffer.from(`275760-09-14T00:00:00.000Z|${randomUUID()}`).toString('base64url'),
  Buffer.from(`-271821-04-20T00:00:00.000Z|${randomUUID()}`).toString('base64url'),
  Buffer.from(`2025-01-01T00:00:00.000Z|' OR 1=1 --`).toString('base64url'),
  Buffer.from(`2025-01-01T00:00:00.000Z\u0000|${randomUUID()}`).toString('base64url'),
  Buffer.from(`\uD800|\uDC00`).toString('base64url'),
  'A'.repeat(10_000),
  '%00',
];

/** A plausible valid value for a schema (to build bodies whose one field is then made hostile). */
export function sampleValue(schema: Schema): unknown {
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.oneOf?.length) return sampleValue(schema.oneOf[0]);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date') return '2025-03-01';
      if (schema.format === 'date-time') return '2025-03-01T00:00:00Z';
      return 'value';
    case 'number':
    case 'integer':
      return Math.max(1, schema.minimum ?? 1);
    case 'boolean':
      return true;
    case 'array':
      return schema.items ? [sampleValue(schema.items)] : [];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sampleValue(v)]));
    default:
      return 'value';
  }
}

/** Hostile replacements for one field, chosen by what the field is meant to hold. */
export function hostileFor(schema: Schema): unknown[] {
  const kind = schema.oneOf ? 'number' : schema.type;
  const byKind: unknown[] =
    kind === 'string'
      ? schema.format === 'uuid'
        ? HOSTILE_UUIDS
        : schema.format?.startsWith('date')
          ? HOSTILE_DATES
          : HOSTILE_STRINGS
      : kind === 'number' || kind === 'integer'
        ? HOSTILE_NUMBERS
        : kind === 'array'
          ? [[null], ['\u0000'], Array.from({ length: 10_001 }, () => 'x'), [[[[]]]]]
          : [];
  return [...byKind, ...WRONG_TYPES, ...STRUCTURES];
}

/** Fields a client must never set: ids, ownership, state, privileges. */
export const MASS_ASSIGNMENT: Record<string, unknown> = {
  id: '00000000-0000-4000-8000-000000000001',
  org_id: '00000000-0000-4000-8000-000000000002',
  created_at: '2000-01-01T00:00:00Z',
  status: 'completed',
  scopes: ['platform:admin'],
  role: 'owner',
  is_admin: true,
  secret: 'whsec_x',
  key_hash: 'x',
};
