import { createHash } from 'node:crypto';
import {
  AuditChainRow,
  AuditChainVerifier,
  AuditHashFields,
  canonicalJson,
  GENESIS_HASH,
  hashAuditEvent,
  verifyChain,
} from './audit-chain';

const ORG = '6f1c2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f';

function fields(seq: number, overrides: Partial<AuditHashFields> = {}): AuditHashFields {
  return {
    org_id: ORG,
    seq,
    at: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, seq)),
    actor_type: 'user',
    actor_id: 'u-1',
    action: 'api_key.created',
    target_type: 'api_key',
    target_id: `k-${seq}`,
    data: { n: seq, tags: ['a', 'b'] },
    request_id: null,
    ...overrides,
  };
}

/** A valid chain of `n` events, built the way AuditService appends them. */
function chain(n: number): AuditChainRow[] {
  const rows: AuditChainRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const f = fields(seq);
    const hash = hashAuditEvent(prev, f);
    rows.push({ ...f, id: `id-${seq}`, prev_hash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('is the same for the same value whatever the key insertion order', () => {
    expect(canonicalJson({ x: 1, y: 'two', z: [true] })).toBe(canonicalJson({ z: [true], y: 'two', x: 1 }));
  });

  it('follows JSON for undefined, non-finite numbers, Dates and escaping', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: NaN, d: new Date(0), e: 'quote " and \n' })).toBe(
      '{"b":[null],"c":null,"d":"1970-01-01T00:00:00.000Z","e":"quote \\" and \\n"}',
    );
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ n: BigInt(1) })).toThrow(TypeError);
  });
});

describe('hashAuditEvent', () => {
  it('is the hex SHA-256 of the previous hash, a newline and the canonical JSON of the fields', () => {
    const f = fields(1);
    const body = canonicalJson({ ...f, at: '2025-01-01T12:00:00.001Z' });
    const expected = createHash('sha256').update(`${GENESIS_HASH}\n${body}`).digest('hex');
    expect(hashAuditEvent(GENESIS_HASH, f)).toBe(expected);
    expect(hashAuditEvent(GENESIS_HASH, f)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes `at` as ISO 8601 with milliseconds whether given as a Date or a string', () => {
    const f = fields(1);
    expect(hashAuditEvent(GENESIS_HASH, { ...f, at: '2025-01-01T13:00:00.001+01:00' })).toBe(
      hashAuditEvent(GENESIS_HASH, f),
    );
  });

  it('changes when any field or the previous hash changes', () => {
    const base = hashAuditEvent(GENESIS_HASH, fields(1));
    const variants: Partial<AuditHashFields>[] = [
      { org_id: '00000000-0000-0000-0000-000000000001' },
      { seq: 2 },
      { at: new Date(Date.UTC(2025, 0, 1, 12, 0, 0, 2)) },
      { actor_type: 'api_key' },
      { actor_id: 'u-2' },
      { action: 'api_key.revoked' },
      { target_type: null },
      { target_id: 'k-9' },
      { data: { n: 1, tags: ['b', 'a'] } },
      { request_id: 'req-1' },
    ];
    for (const v of variants) expect(hashAuditEvent(GENESIS_HASH, fields(1, v))).not.toBe(base);
    expect(hashAuditEvent('f'.repeat(64), fields(1))).not.toBe(base);
  });

  it('does not depend on the key order of data', () => {
    expect(hashAuditEvent(GENESIS_HASH, fields(1, { data: { a: 1, b: 2 } }))).toBe(
      hashAuditEvent(GENESIS_HASH, fields(1, { data: { b: 2, a: 1 } })),
    );
  });
});

describe('verifyChain', () => {
  it('accepts an empty chain and an intact one', () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0 });
    expect(verifyChain(chain(5))).toEqual({ ok: true, count: 5 });
  });

  it('reports a changed field as a hash mismatch at that seq', () => {
    const rows = chain(5);
    rows[2] = { ...rows[2], data: { n: 999 } };
    expect(verifyChain(rows)).toEqual({ ok: false, broken_at_seq: 3, id: 'id-3', reason: 'hash mismatch' });
  });

  it('reports a row whose hash was recomputed after tampering at the next seq', () => {
    const rows = chain(5);
    const tampered = { ...rows[1], action: 'nothing.happened' };
    rows[1] = { ...tampered, hash: hashAuditEvent(tampered.prev_hash, tampered) };
    expect(verifyChain(rows)).toEqual({ ok: false, broken_at_seq: 3, id: 'id-3', reason: 'prev_hash mismatch' });
  });

  it('reports a first event that does not start from the genesis hash', () => {
    const rows = chain(2);
    rows[0] = { ...rows[0], prev_hash: 'a'.repeat(64) };
    expect(verifyChain(rows)).toEqual({ ok: false, broken_at_seq: 1, id: 'id-1', reason: 'prev_hash mismatch' });
  });

  it('reports a deleted event as a seq gap at the event after it', () => {
    const rows = chain(5);
    rows.splice(2, 1);
    expect(verifyChain(rows)).toEqual({ ok: false, broken_at_seq: 4, id: 'id-4', reason: 'seq gap' });
    expect(verifyChain(chain(3).slice(1))).toEqual({ ok: false, broken_at_seq: 2, id: 'id-2', reason: 'seq gap' });
  });

  it('reports the first break only', () => {
    const rows = chain(6);
    rows[1] = { ...rows[1], actor_id: 'someone-else' };
    rows[4] = { ...rows[4], actor_id: 'someone-else' };
    expect(verifyChain(rows)).toMatchObject({ ok: false, broken_at_seq: 2 });
  });

  it('gives the same answer when rows are pushed one page at a time', () => {
    const rows = chain(7);
    rows[5] = { ...rows[5], target_id: 'k-other' };
    const verifier = new AuditChainVerifier();
    const pushed = [rows.slice(0, 3), rows.slice(3)].flatMap((page) => page.map((r) => verifier.push(r)));
    expect(pushed).toEqual([true, true, true, true, true, false, false]);
    expect(verifier.result()).toEqual(verifyChain(rows));
  });

  it('accepts seq as a string, as pg returns bigint', () => {
    const rows = chain(2).map((r) => ({ ...r, seq: String(r.seq) as unknown as number }));
    expect(verifyChain(rows)).toEqual({ ok: true, count: 2 });
  });
});
