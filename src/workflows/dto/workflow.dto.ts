import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../../../libs/http';
import { AskContextDto } from '../../agents/agents.module';
import { PATTERNS, WORKFLOW_STATUSES } from '../entities/workflow-run.entity';
import type { Pattern, WorkflowStatus } from '../entities/workflow-run.entity';

const AGENT_NAMES = ['resolution', 'ops', 'sessions', 'webhooks'];

export class WorkflowInputDto {
  @ApiProperty({ minLength: 1, maxLength: 4000 }) @IsString() @MinLength(1) @MaxLength(4000) message!: string;

  @ApiPropertyOptional({ type: AskContextDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AskContextDto)
  context?: AskContextDto;
}

export class WorkflowOptionsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 5, description: 'debate: rounds before the judge (default 2).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  rounds?: number;

  @ApiPropertyOptional({ enum: [...AGENT_NAMES, 'triage'], description: 'debate: the judge (default triage).' })
  @IsOptional()
  @IsIn([...AGENT_NAMES, 'triage'])
  judge?: string;

  @ApiPropertyOptional({ enum: AGENT_NAMES, description: 'parallel: an agent that merges the outputs.' })
  @IsOptional()
  @IsIn(AGENT_NAMES)
  aggregator?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10, description: 'verification: rounds (default 3).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  max_rounds?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'panel: agreement needed (default 0.6).' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  agreement?: number;
}

export class CreateWorkflowDto {
  @ApiProperty({ enum: PATTERNS }) @IsIn(PATTERNS) pattern!: Pattern;

  @ApiProperty({
    type: [String],
    enum: AGENT_NAMES,
    description: 'verification: [maker, checker]; the same agent may appear twice.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsIn(AGENT_NAMES, { each: true })
  agents!: string[];

  @ApiProperty({ type: WorkflowInputDto })
  @IsObject()
  @ValidateNested()
  @Type(() => WorkflowInputDto)
  input!: WorkflowInputDto;

  @ApiPropertyOptional({ type: WorkflowOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => WorkflowOptionsDto)
  options?: WorkflowOptionsDto;
}

export class WorkflowAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: WORKFLOW_STATUSES }) status!: WorkflowStatus;
}

export class WorkflowStepDto {
  @ApiProperty() seq!: number;
  @ApiProperty() step!: number;
  @ApiProperty() branch!: number;
  @ApiProperty() round!: number;
  @ApiProperty() agent!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) input!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) output!: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) tool_calls!: unknown[];
  @ApiProperty() duration_ms!: number;
  @ApiProperty() attempts!: number;
  @ApiProperty({ format: 'date-time' }) completed_at!: string;
}

export class WorkflowSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: PATTERNS }) pattern!: string;
  @ApiProperty({ type: [String] }) agents!: string[];
  @ApiProperty({ enum: WORKFLOW_STATUSES }) status!: string;
  @ApiProperty() steps_done!: number;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) finished_at!: string | null;
}

export class WorkflowDto extends WorkflowSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true }) input!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) options!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) result!: Record<string, unknown> | null;
  @ApiProperty({ type: [WorkflowStepDto] }) steps!: WorkflowStepDto[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) proposals!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) escalations!: unknown[];
}

export class WorkflowPageDto {
  @ApiProperty({ type: [WorkflowSummaryDto] }) items!: WorkflowSummaryDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class WorkflowListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WORKFLOW_STATUSES }) @IsOptional() @IsIn(WORKFLOW_STATUSES) status?: WorkflowStatus;
}
