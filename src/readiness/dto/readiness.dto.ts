import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CHECK_VERDICTS } from '../../../libs/core';

export const REPORT_VERDICTS = ['READY', 'NEEDS_ATTENTION', 'NOT_READY'] as const;
export type ReportVerdict = (typeof REPORT_VERDICTS)[number];

export class ReadinessCheckDto {
  @ApiProperty({ example: 'rls' }) id!: string;
  @ApiProperty({ description: 'What a pass means.' }) title!: string;
  @ApiProperty({ enum: CHECK_VERDICTS }) verdict!: (typeof CHECK_VERDICTS)[number];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What the check measured now: numbers, names, timestamps (never a secret).',
  })
  evidence!: Record<string, unknown>;
  @ApiProperty({ description: 'What to do when it does not pass.' }) remedy!: string;
  @ApiProperty({ description: 'How long the check took.' }) duration_ms!: number;
}

export class ReadinessCountsDto {
  @ApiProperty() pass!: number;
  @ApiProperty() warn!: number;
  @ApiProperty() fail!: number;
}

export class ReadinessReportDto {
  @ApiProperty({
    enum: REPORT_VERDICTS,
    description: 'READY: every check passes; NEEDS_ATTENTION: warnings only; NOT_READY: at least one fails.',
  })
  verdict!: ReportVerdict;
  @ApiProperty({ format: 'date-time' }) generated_at!: string;
  @ApiProperty() duration_ms!: number;
  @ApiProperty({ type: ReadinessCountsDto }) counts!: ReadinessCountsDto;
  @ApiProperty({ type: [ReadinessCheckDto] }) checks!: ReadinessCheckDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The process that computed the report (role, instance id, version).',
  })
  computed_by!: Record<string, unknown>;
}

export class ReportBackupDto {
  @ApiProperty({ format: 'date-time', description: 'When the backup finished (not in the future).' })
  @IsISO8601({ strict: true })
  completed_at!: string;

  @ApiPropertyOptional({
    maxLength: 500,
    description: 'Where it was written (defaults to BACKUP_TARGET); never credentials.',
    example: 's3://backups/calmops/2026-12-04T03:00Z',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  target?: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'pgbackrest full' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  method?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  size_bytes?: number;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class BackupReportDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) completed_at!: string;
  @ApiProperty() target!: string;
  @ApiProperty({ nullable: true, type: String }) method!: string | null;
  @ApiProperty({ nullable: true, type: Number }) size_bytes!: number | null;
  @ApiProperty({ nullable: true, type: String }) note!: string | null;
  @ApiProperty() reported_by!: string;
  @ApiProperty({ format: 'date-time' }) reported_at!: string;
}
