import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../../../libs/http';
import { IsDecimalField, PERCENT_SPEC } from '../decimal-fields';

export const DEDUCTION_KINDS = ['fixed', 'percent'] as const;
export type DeductionKind = (typeof DEDUCTION_KINDS)[number];
export const MAX_PRIORITY = 1_000_000;

export class CreateDeductionDto {
  @ApiProperty({ format: 'uuid', description: "A driver of the caller's org." })
  @IsUUID()
  driver_id!: string;

  @ApiProperty({ maxLength: 200, example: 'Truck lease' })
  @IsString()
  @MaxLength(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({ enum: DEDUCTION_KINDS, description: 'fixed needs amount_cents; percent needs percent.' })
  @IsIn(DEDUCTION_KINDS)
  kind!: DeductionKind;

  @ApiPropertyOptional({ minimum: 1, description: 'Cents per pay run (kind fixed only).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  amount_cents?: number;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'number' }],
    example: '12.5',
    description: 'Percent of gross, 0 < percent ≤ 100, at most 4 decimals (kind percent only).',
  })
  @IsOptional()
  @IsDecimalField(PERCENT_SPEC)
  percent?: string | number;

  @ApiPropertyOptional({ default: 100, minimum: 0, maximum: MAX_PRIORITY, description: 'Lower applies first.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Cap on the total ever deducted, in cents.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  max_total_cents?: number;
}

export class DeductionListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  driver_id?: string;
}

export class DeductionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) driver_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: DEDUCTION_KINDS }) kind!: DeductionKind;
  @ApiProperty({ type: Number, nullable: true }) amount_cents!: number | null;
  @ApiProperty({ type: String, nullable: true, example: '12.5000', description: 'As stored: 4 decimals.' })
  percent!: string | null;
  @ApiProperty() priority!: number;
  @ApiProperty({ type: Number, nullable: true }) max_total_cents!: number | null;
  @ApiProperty() active!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class DeductionPageDto {
  @ApiProperty({ type: [DeductionDto] }) items!: DeductionDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
