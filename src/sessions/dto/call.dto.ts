import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { CALL_STATUSES } from '../entities/call.entity';
import type { CallStatus } from '../entities/call.entity';

export class InboundCallDto {
  @ApiProperty({ example: '+15551230001', description: 'Caller number or SIP URI.' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  from!: string;

  @ApiPropertyOptional({ example: '+15559870000' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  to?: string;

  @ApiPropertyOptional({ example: 'CA1234567890abcdef', description: "The provider's call id; unique per org." })
  @IsOptional()
  @IsString()
  @Matches(/^[\w.:@-]{1,128}$/, { message: 'external_id must be 1-128 letters, digits or ._:@-' })
  external_id?: string;
}

export class EndCallDto {
  @ApiPropertyOptional({ example: 'caller_hung_up' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string;
}

export class InboundCallResultDto {
  @ApiProperty({ format: 'uuid' }) call_id!: string;
  @ApiProperty({ enum: CALL_STATUSES }) status!: CallStatus;
  @ApiPropertyOptional({ format: 'uuid' }) agent_id?: string;
  @ApiPropertyOptional({ format: 'uuid' }) session_id?: string;
}

export class CallDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) external_id!: string | null;
  @ApiProperty() from!: string;
  @ApiProperty({ nullable: true, type: String }) to!: string | null;
  @ApiProperty({ enum: CALL_STATUSES }) status!: CallStatus;
  @ApiProperty({ nullable: true, type: String }) agent_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) session_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) reserved_until!: string | null;
  @ApiProperty() offer_count!: number;
  @ApiProperty() queued_at!: string;
  @ApiProperty({ nullable: true, type: String }) assigned_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) answered_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) ended_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) end_reason!: string | null;
}
