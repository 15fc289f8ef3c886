import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../libs/http';
import { DELIVERY_STATUSES } from '../entities/webhook-delivery.entity';
import type { DeliveryStatus } from '../entities/webhook-delivery.entity';

export class DeliveryListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  endpoint_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ example: 'payroll.run.completed' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  event_type?: string;
}

export class RecoverDeliveriesDto {
  @ApiProperty({ format: 'date-time', description: 'Failed deliveries created at or after this time…' })
  @IsDateString({ strict: true })
  since!: string;

  @ApiPropertyOptional({ format: 'date-time', description: '…and before this time (default: now).' })
  @IsOptional()
  @IsDateString({ strict: true })
  until?: string;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) endpoint_id!: string;
  @ApiProperty({ format: 'uuid', description: 'The event id, sent as webhook-id on every attempt.' }) event_id!: string;
  @ApiProperty() event_type!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
  @ApiProperty({ description: 'Attempts made so far.' }) attempts!: number;
  @ApiProperty({ format: 'date-time' }) next_attempt_at!: string;
  @ApiProperty({ type: Number, nullable: true }) last_status_code!: number | null;
  @ApiProperty({ type: String, nullable: true }) last_error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) succeeded_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class DeliveryAttemptDto {
  @ApiProperty() attempt!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: Number, nullable: true }) status_code!: number | null;
  @ApiProperty() latency_ms!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'http_500',
    description: 'null on success; http_<code>, redirect, timeout, connection_error, ssrf_blocked or worker_lost.',
  })
  error_class!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The first 2 KB of the response body.' })
  response_body!: string | null;
}

export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The envelope sent.' })
  payload!: Record<string, unknown>;
  @ApiProperty({ type: [DeliveryAttemptDto], description: 'Every attempt, oldest first.' })
  attempt_log!: DeliveryAttemptDto[];
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items!: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class DeliveryAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
}

export class RecoverAcceptedDto {
  @ApiProperty({ description: 'Failed deliveries sent back to the queue.' }) requeued!: number;
}
