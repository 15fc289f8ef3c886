import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { ALL_EVENT_TYPES, WEBHOOK_EVENT_TYPES } from '../event-types';

export const ENDPOINT_FORMATS = ['standard', 'slack'] as const;
export type EndpointFormat = (typeof ENDPOINT_FORMATS)[number];
const SUBSCRIBABLE = [...WEBHOOK_EVENT_TYPES, ALL_EVENT_TYPES];
/** Fields that may be left out of a PATCH but, when present, must not be null. */
const present = (_: object, value: unknown) => value !== undefined;

const URL_DOC = {
  maxLength: 2048,
  example: 'https://example.com/hooks/calmops',
  description:
    'https (http only when WEBHOOKS_ALLOW_HTTP). Loopback, private, link-local and other non-public targets are refused, also when the host name resolves to one at delivery time.',
};
const EVENT_TYPES_DOC = {
  isArray: true,
  enum: SUBSCRIBABLE,
  example: ['payroll.run.completed'],
  description: 'Event types to receive, or exactly ["*"] for all (GET /api/webhooks/event-types lists them).',
};

export class CreateEndpointDto {
  @ApiProperty(URL_DOC)
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty(EVENT_TYPES_DOC)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  event_types!: string[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ enum: ENDPOINT_FORMATS, default: 'standard' })
  @IsOptional()
  @IsIn(ENDPOINT_FORMATS)
  format?: EndpointFormat;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 1000,
    description: 'Most deliveries per second; none = unlimited.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  rate_limit_per_second?: number | null;
}

/** Any subset; description and rate_limit_per_second may be null to clear them. */
export class UpdateEndpointDto {
  @ApiPropertyOptional(URL_DOC)
  @ValidateIf(present)
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional(EVENT_TYPES_DOC)
  @ValidateIf(present)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE, { each: true })
  event_types?: string[];

  @ApiPropertyOptional({ description: 'true re-enables (clears disabled_reason and the failure clock).' })
  @ValidateIf(present)
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ maxLength: 500, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ enum: ENDPOINT_FORMATS })
  @ValidateIf(present)
  @IsIn(ENDPOINT_FORMATS)
  format?: EndpointFormat;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  rate_limit_per_second?: number | null;
}

export class EndpointBreakerDto {
  @ApiProperty({ enum: ['closed', 'open', 'half_open'] }) state!: 'closed' | 'open' | 'half_open';
  @ApiProperty() consecutive_failures!: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) opened_at!: string | null;
}

export class EndpointDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ isArray: true, enum: SUBSCRIBABLE }) event_types!: string[];
  @ApiProperty({ enum: ENDPOINT_FORMATS }) format!: EndpointFormat;
  @ApiProperty({ nullable: true, type: Number }) rate_limit_per_second!: number | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'failing_too_long' }) disabled_reason!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) disabled_at!: string | null;
  @ApiProperty({ type: EndpointBreakerDto }) breaker!: EndpointBreakerDto;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) failing_since!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) last_success_at!: string | null;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'After a rotation, until when the previous secret still signs (a second signature).',
  })
  previous_secret_expires_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CreatedEndpointDto extends EndpointDto {
  @ApiProperty({ example: 'whsec_…', description: 'The signing secret. Shown once; only its ciphertext is stored.' })
  secret!: string;
}

export class EndpointPageDto {
  @ApiProperty({ type: [EndpointDto] }) items!: EndpointDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class EndpointSecretDto {
  @ApiProperty({ example: 'whsec_…', description: 'The new signing secret. Shown once.' }) secret!: string;
  @ApiProperty({ format: 'date-time', description: 'The old secret keeps signing until then.' })
  previous_secret_expires_at!: string;
}

export class TestEventDto {
  @ApiPropertyOptional({ maxLength: 500, default: 'This is a test event from CalmOps.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  message?: string;
}

export class TestEventAcceptedDto {
  @ApiProperty({ format: 'uuid' }) event_id!: string;
}

export class EventTypeDto {
  @ApiProperty() type!: string;
  @ApiProperty() description!: string;
}

export class EventTypeListDto {
  @ApiProperty({ type: [EventTypeDto] }) items!: EventTypeDto[];
}
