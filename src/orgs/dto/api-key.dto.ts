import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { Scope, SCOPES } from '../../../libs/auth';

const GRANTABLE = SCOPES.filter((s) => s !== 'platform:admin');

export class CreateApiKeyDto {
  @ApiProperty({ example: 'payroll export job' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiProperty({ enum: GRANTABLE, isArray: true, example: ['payroll:read'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(GRANTABLE.length)
  @ArrayUnique()
  @IsIn(GRANTABLE, { each: true })
  scopes!: Scope[];

  @ApiPropertyOptional({ format: 'date-time', description: 'When the key stops working (future, UTC).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'First characters of the key, to recognise it.' }) prefix!: string;
  @ApiProperty() last4!: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes!: string[];
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revoked_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) last_used_at!: string | null;
  @ApiProperty() created_by!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key itself. Shown once; only its SHA-256 is stored.' })
  api_key!: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
