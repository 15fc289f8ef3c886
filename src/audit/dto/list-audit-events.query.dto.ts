import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_ACTOR_TYPES, AUDIT_LIST_DEFAULT_LIMIT, AUDIT_LIST_MAX_LIMIT } from '../../../libs/audit';
import type { AuditActorType, AuditListFilters } from '../../../libs/audit';

/** Query of `GET /api/audit`: exact-match filters, a time window and keyset pagination. */
export class ListAuditEventsQueryDto implements AuditListFilters {
  @ApiPropertyOptional({ description: 'Exact action, e.g. `api_key.created`.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  action?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTOR_TYPES, description: 'Kind of actor.' })
  @IsOptional()
  @IsIn(AUDIT_ACTOR_TYPES)
  actor_type?: AuditActorType;

  @ApiPropertyOptional({ description: 'User id, API key id or `system`.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor_id?: string;

  @ApiPropertyOptional({ description: 'Kind of object acted on, e.g. `api_key`.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target_type?: string;

  @ApiPropertyOptional({ description: 'Id of the object acted on.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target_id?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this instant (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events strictly before this instant (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;

  @ApiPropertyOptional({
    type: Number,
    minimum: 1,
    maximum: AUDIT_LIST_MAX_LIMIT,
    default: AUDIT_LIST_DEFAULT_LIMIT,
    description: 'Page size.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(AUDIT_LIST_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor returned by this endpoint' })
  cursor?: string;
}
