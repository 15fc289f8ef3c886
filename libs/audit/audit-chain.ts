import { createHash } from 'node:crypto';

/** Who performed an audited action. */
export const AUDIT_ACTOR_TYPES = ['user', 'api_key', 'platform_key', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** The `prev_hash` of the first event of every org. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an event's hash covers, as stored (snake_case, nulls rather than absent fields). */
export interface AuditHashFields {
  org_id: string;
  seq: number;
  /** A Date or any string `Date` parses; hashed as ISO 8601 with milliseconds. */
  at: Date | string;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  data: unknown;
  request_id: string | null;
}

/** A stored event as the verifier needs it. */
export interface AuditChainRow extends AuditHashFields {
  id: string;
  prev_hash: string;
  hash: string;
}

export type AuditChainFailureReason = 'hash mismatch' | 'prev_hash mismatch' | 'seq gap';

export type AuditChainResult =
  { ok: true; count: number } | { ok: false; broken_at_seq: number; id: string; reason: AuditChainFailureReason };

/**
 * JSON with object keys sorted at every level, so the same value always serializes to the same
 * text no matter in which order its keys were written (jsonb does not keep key order).
 * Follows JSON.stringify otherwise: toJSON() is honoured, undefined members are dropped,
 * non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new TypeError('canonicalJson: the value has no JSON representation');
  return text;
}

function serialize(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt has no JSON representation');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = serialize(record[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/** Hex SHA-256 over the previous hash and the canonical JSON of the event's fields. */
export function hashAuditEvent(prevHash: string, fields: AuditHashFields): string {
  const body = canonicalJson({
    org_id: fields.org_id,
    seq: fields.seq,
    at: new Date(fields.at).toISOString(),
    actor_type: fields.actor_type,
    actor_id: fields.actor_id,
    action: fields.action,
    target_type: fields.target_type ?? null,
    target_id: fields.target_id ?? null,
    data: fields.data ?? {},
    request_id: fields.request_id ?? null,
  });
  return createHash('sha256').update(`${prevHash}\n${body}`).digest('hex');
}

/**
 * Checks one org's events row by row in seq order, so a caller can stream a chain of any
 * length through it page by page. The first failure is final.
 */
export class AuditChainVerifier {
  private count = 0;
  private prevHash = GENESIS_HASH;
  private failure?: Extract<AuditChainResult, { ok: false }>;

  /** Returns false once the chain is known to be broken (later rows change nothing). */
  push(row: AuditChainRow): boolean {
    if (this.failure) return false;
    const seq = Number(row.seq);
    const reason =
      seq !== this.count + 1
        ? 'seq gap'
        : row.prev_hash !== this.prevHash
          ? 'prev_hash mismatch'
          : hashAuditEvent(row.prev_hash, { ...row, seq }) !== row.hash
            ? 'hash mismatch'
            : undefined;
    if (reason) {
      this.failure = { ok: false, broken_at_seq: seq, id: row.id, reason };
      return false;
    }
    this.count = seq;
    this.prevHash = row.hash;
    return true;
  }

  result(): AuditChainResult {
    return this.failure ?? { ok: true, count: this.count };
  }
}

/** Verifies a whole chain held in memory (rows in seq order, starting at seq 1). */
export function verifyChain(rows: Iterable<AuditChainRow>): AuditChainResult {
  const verifier = new AuditChainVerifier();
  for (const row of rows) if (!verifier.push(row)) break;
  return verifier.result();
}
