import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { PageQueryDto } from '../../../libs/http';
import { APPROVAL_STATUSES } from '../entities/approval-request.entity';
import type { ApprovalStatus } from '../entities/approval-request.entity';
import { AGENT_KEYS } from '../registry/agent-registry';
import type { AgentKey } from '../registry/agent-registry';

export class AskContextDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() payroll_run_id?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() ticket_id?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() incident_id?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() call_id?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() endpoint_id?: string;
}

export class AskDto {
  @ApiProperty({ example: 'Why are lines of this payroll run held?', minLength: 1, maxLength: 4000 })
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  message!: string;

  @ApiPropertyOptional({
    type: AskContextDto,
    description: 'The ids the question is about; they decide the agent first.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AskContextDto)
  context?: AskContextDto;

  @ApiPropertyOptional({
    enum: AGENT_KEYS,
    description: 'Ask this assistant agent directly (triage: route by the rules).',
  })
  @IsOptional()
  @IsIn(AGENT_KEYS)
  agent?: AgentKey;
}

export class ProposalDto {
  @ApiProperty({ format: 'uuid' }) approval_id!: string;
  @ApiProperty() tool!: string;
  @ApiProperty() tool_version!: number;
  @ApiProperty() summary!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) arguments!: Record<string, unknown>;
  @ApiProperty({ enum: APPROVAL_STATUSES }) status!: ApprovalStatus;
  @ApiProperty({ format: 'date-time' }) expires_at!: string;
}

export class AskResultDto {
  @ApiProperty({ format: 'uuid' }) conversation_id!: string;
  @ApiProperty({ enum: AGENT_KEYS }) agent!: string;
  @ApiProperty({ description: 'The routing rule that chose the agent.' }) routed_by!: string;
  @ApiProperty() answer!: string;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) evidence!: unknown[];
  @ApiProperty({ type: [ProposalDto] }) proposals!: ProposalDto[];
  @ApiProperty({ minimum: 0, maximum: 1 }) confidence!: number;
  @ApiProperty({ enum: ['rules', 'anthropic'] }) provider!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) escalation_id!: string | null;
}

export class AgentDto {
  @ApiProperty({ enum: AGENT_KEYS }) key!: string;
  @ApiProperty() version!: number;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String] }) intents!: string[];
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ type: [String] }) tools!: string[];
}

export class AgentListDto {
  @ApiProperty({ type: [AgentDto] }) items!: AgentDto[];
}

export class ToolDto {
  @ApiProperty() name!: string;
  @ApiProperty() version!: number;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: ['read', 'draft', 'write'] }) kind!: string;
  @ApiProperty({ type: [String] }) scopes!: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'boolean' } }) annotations!: Record<string, boolean>;
  @ApiProperty({ enum: ['none', 'required'] }) approval!: string;
  @ApiProperty() timeout_ms!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) input_schema!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true }) output_schema!: Record<string, unknown>;
}

export class ToolListDto {
  @ApiProperty({ type: [ToolDto] }) items!: ToolDto[];
}

export class ToolCallDto {
  @ApiProperty() seq!: number;
  @ApiProperty() tool!: string;
  @ApiProperty() tool_version!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) input!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) output!: unknown;
  @ApiProperty({ enum: ['ok', 'denied', 'failed'] }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() duration_ms!: number;
}

export class ConversationSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() agent!: string;
  @ApiProperty() routed_by!: string;
  @ApiProperty() message!: string;
  @ApiProperty() answer!: string;
  @ApiProperty() confidence!: number;
  @ApiProperty() provider!: string;
  @ApiProperty({ description: 'Model tokens used (0 with the rules provider).' }) input_tokens!: number;
  @ApiProperty() output_tokens!: number;
  @ApiProperty({ description: 'Model cost in millionths of a US dollar.' }) cost_micro_usd!: number;
  @ApiProperty() requested_by!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class ConversationPageDto {
  @ApiProperty({ type: [ConversationSummaryDto] }) items!: ConversationSummaryDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class ApprovalDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) conversation_id!: string | null;
  @ApiProperty() agent!: string;
  @ApiProperty() tool!: string;
  @ApiProperty() tool_version!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) arguments!: Record<string, unknown>;
  @ApiProperty({ description: 'sha256 of the canonical JSON of tool, version and arguments.' }) arguments_hash!: string;
  @ApiProperty() summary!: string;
  @ApiProperty({ enum: APPROVAL_STATUSES }) status!: ApprovalStatus;
  @ApiProperty() requested_by!: string;
  @ApiProperty({ nullable: true, type: String }) decided_by!: string | null;
  @ApiProperty({ nullable: true, type: String }) decision_reason!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) decided_at!: string | null;
  @ApiProperty({ format: 'date-time' }) expires_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) executed_at!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) result!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class ConversationDto extends ConversationSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) context!: Record<string, string>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) evidence!: unknown[];
  @ApiProperty({ type: [ToolCallDto] }) tool_calls!: ToolCallDto[];
  @ApiProperty({ type: [ApprovalDto] }) proposals!: ApprovalDto[];
}

export class ApprovalPageDto {
  @ApiProperty({ type: [ApprovalDto] }) items!: ApprovalDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class ApprovalListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: APPROVAL_STATUSES })
  @IsOptional()
  @IsIn(APPROVAL_STATUSES)
  status?: ApprovalStatus;
}

export class ApproveDto {
  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  reason?: string;
}

export class RejectDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reason!: string;
}

export class EscalationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() detail!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) conversation_id!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) approval_id!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class EscalationPageDto {
  @ApiProperty({ type: [EscalationDto] }) items!: EscalationDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
