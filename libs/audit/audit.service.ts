import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatabaseService, TenantContext } from '../database';
import { ProblemException } from '../http';
import {
  AUDIT_ACTOR_TYPES,
  AuditActorType,
  AuditChainResult,
  AuditChainVerifier,
  GENESIS_HASH,
  hashAuditEvent,
} from './audit-chain';

/** What happened, by whom, to what. */
export interface AuditEntry {
  /** `<resource>.<past-tense verb>`, e.g. `api_key.created`. */
  action: string;
  actorType: AuditActorType;
  actorId: string;
  targetType?: string | null;
  targetId?: string | null;
  /** Any JSON object; stored and hashed as its JSON form (Dates become ISO strings). */
  data?: Record<string, unknown>;
  requestId?: string | null;
}

/** A stored event as the API shows it. */
export interface AuditEventView {
  id: string;
  org_id: string;
  seq: number;
  at: string;
  actor_type: AuditActorType;
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  data: Record<string, unknown>;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

/** Every filter is exact, except `since` (inclusive) and `until` (exclusive) on `at`. */
export interface AuditListFilters {
  action?: string;
  actor_type?: AuditActorType;
  actor_id?: string;
  target_type?: string;
  target_id?: string;
  since?: string | Date;
  until?: string | Date;
  /** 1..200, default 50. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface AuditEventPage {
  items: AuditEventView[];
  next_cursor: string | null;
}

interface AuditEventRow extends Omit<AuditEventView, 'seq' | 'at'> {
  seq: string;
  at: Date;
}

const COLUMNS =
  'id, org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data, request_id, prev_hash, hash';
export const AUDIT_LIST_DEFAULT_LIMIT = 50;
export const AUDIT_LIST_MAX_LIMIT = 200;
const VERIFY_PAGE_SIZE = 1000;

function toView(row: AuditEventRow): AuditEventView {
  return { ...row, seq: Number(row.seq), at: row.at.toISOString() };
}

function invalid(field: string, message: string): ProblemException {
  return new ProblemException(400, `The request is invalid: ${field}.`, { errors: [{ field, message }] });
}

function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ seq })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { seq } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { seq?: unknown };
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0) return seq;
  } catch {
    // Malformed cursors fall through to the same 400 as well-formed but meaningless ones.
  }
  throw invalid('cursor', 'cursor must be a next_cursor returned by this endpoint');
}

function toInstant(value: string | Date, field: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalid(field, `${field} must be an ISO 8601 date-time`);
  return date.toISOString();
}

/**
 * The audit log: one append-only hash chain per org. An event is written in the transaction
 * of the change it describes, so the log never shows a change that was rolled back and never
 * misses one that committed.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
  ) {}

  /**
   * Appends an event to the org's chain. Without arguments it joins the current
   * TenantContext transaction; system work (no tenant context, e.g. creating an org) passes its
   * own manager and the org id. A manager outside a transaction gets one, because the
   * serializing lock below only lives as long as a transaction.
   */
  async record(entry: AuditEntry, manager?: EntityManager, orgId?: string): Promise<AuditEventView> {
    if ((manager === undefined) !== (orgId === undefined)) {
      throw new Error('AuditService.record: pass both a manager and an org id, or neither');
    }
    if (!(AUDIT_ACTOR_TYPES as readonly string[]).includes(entry.actorType)) {
      throw new Error(`AuditService.record: unknown actor type "${entry.actorType}"`);
    }
    if (!entry.action || !entry.actorId) throw new Error('AuditService.record: action and actorId are required');
    const target = manager ?? this.tenant.manager;
    const org = orgId ?? this.tenant.orgId;
    if (target.queryRunner?.isTransactionActive) return this.append(target, org, entry);
    return target.transaction((tx) => this.append(tx, org, entry));
  }

  private async append(m: EntityManager, orgId: string, entry: AuditEntry): Promise<AuditEventView> {
    // Appends to one org queue up here until the holder commits; the next one then reads the
    // committed head (READ COMMITTED takes a fresh snapshot per statement). The unique
    // (org_id, seq) constraint is the backstop should anything bypass the lock.
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1::text, 0))`, [orgId]);
    const [head] = (await m.query('SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [
      orgId,
    ])) as { seq: string; hash: string }[];
    // Hash exactly what jsonb will give back: JSON drops undefined members, turns Dates into strings.
    const data = JSON.parse(JSON.stringify(entry.data ?? {})) as Record<string, unknown>;
    const fields = {
      org_id: orgId,
      seq: head ? Number(head.seq) + 1 : 1,
      // Set here, not by now(): the hash must be computable before the insert, and a JS Date
      // holds milliseconds, which timestamptz stores exactly.
      at: new Date().toISOString(),
      actor_type: entry.actorType,
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      data,
      request_id: entry.requestId ?? null,
    };
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = hashAuditEvent(prevHash, fields);
    const [{ id }] = (await m.query(
      `INSERT INTO audit_events (org_id, seq, at, actor_type, actor_id, action, target_type, target_id, data,
         request_id, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12) RETURNING id`,
      [
        orgId,
        fields.seq,
        fields.at,
        fields.actor_type,
        fields.actor_id,
        fields.action,
        fields.target_type,
        fields.target_id,
        JSON.stringify(data),
        fields.request_id,
        prevHash,
        hash,
      ],
    )) as { id: string }[];
    return { id, ...fields, prev_hash: prevHash, hash };
  }

  /**
   * Recomputes an org's whole chain through the system connection (a verifier must see every
   * row, whoever asks), reading it in seq-ordered pages so memory stays flat however long the
   * log is. Reports the first broken event.
   */
  async verify(orgId: string, options: { pageSize?: number } = {}): Promise<AuditChainResult> {
    const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE;
    const verifier = new AuditChainVerifier();
    for (let after = 0; ;) {
      const rows = (await this.db.system.query(
        `SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [orgId, after, pageSize],
      )) as AuditEventRow[];
      for (const row of rows) {
        if (!verifier.push({ ...row, seq: Number(row.seq) })) return verifier.result();
      }
      if (rows.length < pageSize) return verifier.result();
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** The current org's events, newest first, with keyset pagination on seq. */
  async list(filters: AuditListFilters = {}): Promise<AuditEventPage> {
    const manager = this.tenant.manager;
    const limit =
      filters.limit === undefined || !Number.isInteger(filters.limit)
        ? AUDIT_LIST_DEFAULT_LIMIT
        : Math.min(Math.max(filters.limit, 1), AUDIT_LIST_MAX_LIMIT);
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (condition: (param: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    // Row-level security already confines the rows; the explicit org also lets the planner use
    // the (org_id, seq) index.
    add((p) => `org_id = ${p}`, this.tenant.orgId);
    if (filters.action !== undefined) add((p) => `action = ${p}`, filters.action);
    if (filters.actor_type !== undefined) add((p) => `actor_type = ${p}`, filters.actor_type);
    if (filters.actor_id !== undefined) add((p) => `actor_id = ${p}`, filters.actor_id);
    if (filters.target_type !== undefined) add((p) => `target_type = ${p}`, filters.target_type);
    if (filters.target_id !== undefined) add((p) => `target_id = ${p}`, filters.target_id);
    if (filters.since !== undefined) add((p) => `at >= ${p}`, toInstant(filters.since, 'since'));
    if (filters.until !== undefined) add((p) => `at < ${p}`, toInstant(filters.until, 'until'));
    if (filters.cursor !== undefined) add((p) => `seq < ${p}`, decodeCursor(filters.cursor));
    params.push(limit + 1);
    const rows = (await manager.query(
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    )) as AuditEventRow[];
    const items = rows.slice(0, limit).map(toView);
    const more = rows.length > limit;
    return { items, next_cursor: more ? encodeCursor(items[items.length - 1].seq) : null };
  }
}
