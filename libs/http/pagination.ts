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

export interface Keyset {
  at: Date;
  id: string;
}

export function encodeCursor(k: Keyset): string {
  return Buffer.from(`${k.at.toISOString()}|${k.id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Keyset | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at);
  if (!id || Number.isNaN(date.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new ProblemException(400, 'The cursor is not valid.', {
      errors: [{ field: 'cursor', message: 'invalid cursor' }],
    });
  }
  return { at: date, id };
}

/** What a keyset page needs of a row. */
interface Paged {
  id: string;
  createdAt: Date;
}

/**
 * One page of a list, newest first by (created_at, id): the query builder's filters stay the
 * caller's; ordering, the cursor condition and the limit are added here. created_at is
 * compared at the cursor's millisecond precision, so rows created within the same
 * millisecond as a page's last row are neither skipped nor repeated.
 */
export async function newestFirstPage<E extends Paged>(
  qb: SelectQueryBuilder<E>,
  page: { limit: number; cursor?: string },
): Promise<{ rows: E[]; next_cursor: string | null }> {
  const at = `date_trunc('milliseconds', ${qb.alias}.created_at)`;
  qb.orderBy(at, 'DESC')
    .addOrderBy(`${qb.alias}.id`, 'DESC')
    .limit(page.limit + 1);
  const after = decodeCursor(page.cursor);
  if (after)
    qb.andWhere(`(${at}, ${qb.alias}.id) < (:cursorAt, :cursorId)`, { cursorAt: after.at, cursorId: after.id });
  const rows = await qb.getMany();
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    rows: shown,
    next_cursor: rows.length > page.limit && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
  };
}
