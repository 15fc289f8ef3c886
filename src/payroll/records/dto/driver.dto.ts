import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { PageQueryDto } from '../../../../libs/http';
import { IsDecimalField, RATE_SPEC } from '../decimal-fields';
import { PAY_TYPES } from '../entities/driver.entity';
import type { DriverPayType } from '../entities/driver.entity';

const RATE_DOC = {
  oneOf: [{ type: 'string' }, { type: 'number' }],
  example: '25.5',
  description: 'Decimal ≥ 0 with at most 4 decimals, as a string (preferred) or a JSON number; no exponent.',
};
const NOT_BLANK = /\S/;
/** Fields that may be left out of a PATCH but, when present, must not be null. */
const present = (_: object, value: unknown) => value !== undefined;

export class CreateDriverDto {
  @ApiProperty({ maxLength: 200, example: 'Dana Reyes' })
  @IsString()
  @MaxLength(200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 100,
    description: 'Your own id for the driver; unique within the org.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NOT_BLANK, { message: 'external_ref must not be blank' })
  external_ref?: string | null;

  @ApiProperty({ enum: PAY_TYPES })
  @IsIn(PAY_TYPES)
  pay_type!: DriverPayType;

  @ApiProperty(RATE_DOC)
  @IsDecimalField(RATE_SPEC)
  rate!: string | number;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  overtime_exempt?: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

/** Any subset of the fields; external_ref may be null to clear it, the others may not. */
export class UpdateDriverDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @ValidateIf(present)
  @IsString()
  @MaxLength(200)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ maxLength: 100, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NOT_BLANK, { message: 'external_ref must not be blank' })
  external_ref?: string | null;

  @ApiPropertyOptional({ enum: PAY_TYPES })
  @ValidateIf(present)
  @IsIn(PAY_TYPES)
  pay_type?: DriverPayType;

  @ApiPropertyOptional(RATE_DOC)
  @ValidateIf(present)
  @IsDecimalField(RATE_SPEC)
  rate?: string | number;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsBoolean()
  overtime_exempt?: boolean;

  @ApiPropertyOptional()
  @ValidateIf(present)
  @IsBoolean()
  active?: boolean;
}

export class DriverListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only active (true) or inactive (false) drivers.' })
  @IsOptional()
  @IsIn(['true', 'false'])
  active?: 'true' | 'false';
}

export class DriverDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) external_ref!: string | null;
  @ApiProperty({ enum: PAY_TYPES }) pay_type!: DriverPayType;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '25.5000',
    description: 'Decimal string as stored: always 4 decimals.',
  })
  rate!: string | null;
  @ApiProperty() overtime_exempt!: boolean;
  @ApiProperty() active!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class DriverPageDto {
  @ApiProperty({ type: [DriverDto] }) items!: DriverDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
