import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PLANS } from '../org.entity';
import type { Plan } from '../org.entity';

export class CreateOrgDto {
  @ApiProperty({ example: 'Acme Hauling' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ enum: PLANS, default: 'free' })
  @IsOptional()
  @IsIn(PLANS)
  plan?: Plan;
}

export class OrgDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: PLANS }) plan!: Plan;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}
