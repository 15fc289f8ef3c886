import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_ACTOR_TYPES } from '../../../libs/audit';
import type { AuditActorType, AuditEventPage, AuditEventView } from '../../../libs/audit';

/** One audit event; `prev_hash` and `hash` let a client re-check the chain itself. */
export class AuditEventDto implements AuditEventView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  org_id!: string;

  @ApiProperty({ description: 'Position in the org chain: 1, 2, 3… without gaps.', example: 42 })
  seq!: number;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ enum: AUDIT_ACTOR_TYPES })
  actor_type!: AuditActorType;

  @ApiProperty({ example: 'u_123' })
  actor_id!: string;

  @ApiProperty({ example: 'api_key.created' })
  action!: string;

  @ApiProperty({ type: String, nullable: true, example: 'api_key' })
  target_type!: string | null;

  @ApiProperty({ type: String, nullable: true })
  target_id!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Details of the action.' })
  data!: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, description: 'Id of the request that caused the event.' })
  request_id!: string | null;

  @ApiProperty({ description: 'Hash of the previous event (64 zeros for seq 1).', pattern: '^[0-9a-f]{64}$' })
  prev_hash!: string;

  @ApiProperty({
    description: 'Hex SHA-256 of prev_hash, a newline and the canonical JSON of the event fields.',
    pattern: '^[0-9a-f]{64}$',
  })
  hash!: string;
}

export class AuditEventPageDto implements AuditEventPage {
  @ApiProperty({ type: [AuditEventDto], description: 'Newest first (descending seq).' })
  items!: AuditEventDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last.' })
  next_cursor!: string | null;
}
