import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { SelectQueryBuilder } from 'typeorm';
import { ProblemException } from './problem-details.filter';

export const MAX_PAGE_SIZE = 200;

/** `?limit=&cursor=` on every list: keyset pagination, newest first, deterministic. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (next_cursor).' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

/** Where a page ended: a timestamp at full (microsecond) precision, as text, and an id. */
export interface Keyset {
  at: string;
  id: string;
}

/** A column as UTC ISO 8601 text with all six fractional digits: what cursors carry. */
export function timestampText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

// Years 0001-9999 only: anything PostgreSQL's timestamptz cannot hold is refused here.
const CURSOR_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function validAt(at: string): boolean {
  const m = CURSOR_AT.exec(at);
  if (!m || m[1] === '0000') return false;
  // The calendar check at millisecond precision (the extra digits are only a fraction).
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === at.slice(0, 19);
}

export function encodeCursor(k: { at: string | Date; id: string }): string {
  const at = typeof k.at === 'string' ? k.at : k.at.toISOString();
  return Buffer.from(`${at}|${k.id}`).toString('base64url');
}

/** The keyset a next_cursor names; anything else (forged, out of range, garbage) is a 400. */
export function decodeCursor(cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const parts = cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8').split('|') : [];
  const [at, id] = parts;
  if (parts.length !== 2 || !validAt(at) || !CURSOR_ID.test(id)) {
    throw new ProblemException(400, 'The cursor is not valid.', {
      errors: [{ field: 'cursor', message: 'must be a next_cursor returned by this list' }],
    });
  }
  return { at, id };
}

/** What a keyset page needs of a row. */
interface Paged {
  id: string;
}

const PAGE_AT = 'page_at';

/**
 * Makes `qb` select one page of a list, newest first by (created_at, id): the query builder's
 * filters stay the caller's; ordering, the cursor condition and the limit are added here. It
 * orders by the columns themselves, so the (org_id, created_at, id) index serves the page, and
 * the cursor carries created_at at full precision, so rows of the same millisecond are neither
 * skipped nor repeated. The query must not join (one raw row per entity).
 */
export function newestFirstQuery<E extends Paged>(qb: SelectQueryBuilder<E>, page: { limit: number; cursor?: string }) {
  const a = qb.alias;
  qb.addSelect(timestampText(`${a}.created_at`), PAGE_AT)
    .orderBy(`${a}.created_at`, 'DESC')
    .addOrderBy(`${a}.id`, 'DESC')
    .limit(page.limit + 1);
  const after = decodeCursor(page.cursor);
  if (after) {
    qb.andWhere(`(${a}.created_at, ${a}.id) < (CAST(:cursorAt AS timestamptz), CAST(:cursorId AS uuid))`, {
      cursorAt: after.at,
      cursorId: after.id,
    });
  }
  return qb;
}

/** Runs newestFirstQuery: the page's rows and the cursor of the next page (null at the end). */
export async function newestFirstPage<E extends Paged>(
  qb: SelectQueryBuilder<E>,
  page: { limit: number; cursor?: string },
): Promise<{ rows: E[]; next_cursor: string | null }> {
  const { entities, raw } = await newestFirstQuery(qb, page).getRawAndEntities<Record<string, string>>();
  if (raw.length !== entities.length) throw new Error('newestFirstPage: the query must return one row per entity');
  const shown = entities.slice(0, page.limit);
  const last = shown.length - 1;
  const more = entities.length > page.limit && last >= 0;
  return { rows: shown, next_cursor: more ? encodeCursor({ at: raw[last][PAGE_AT], id: shown[last].id }) : null };
}
