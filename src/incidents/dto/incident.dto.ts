import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  MinLength,
} from 'class-validator';
import { PageQueryDto } from '../../../libs/http';
import { INCIDENT_STATUSES } from '../entities/incident.entity';
import type { IncidentStatus } from '../entities/incident.entity';
import { ACTIONS, CATEGORIES, SEVERITIES } from '../signals/rules';
import type { Category, Severity } from '../signals/rules';

export class IncidentListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INCIDENT_STATUSES })
  @IsOptional()
  @IsIn(INCIDENT_STATUSES)
  status?: IncidentStatus;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;
}

export class DeclareIncidentDto {
  @ApiProperty({ example: 'Payroll exports slow for EU orgs', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional({ maxLength: 4000 })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  summary?: string;

  @ApiProperty({ enum: SEVERITIES })
  @IsIn(SEVERITIES)
  severity!: Severity;

  @ApiProperty({ enum: CATEGORIES })
  @IsIn(CATEGORIES)
  category!: Category;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'Orgs known to be affected (they see it).' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  org_ids?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['payroll'],
    description: 'Affected features, as customers read them.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(40, { each: true })
  features?: string[];
}

export class TransitionDto {
  @ApiPropertyOptional({
    maxLength: 4000,
    description: 'A note for the timeline; on close, the lessons learned (kept in the postmortem).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  note?: string;
}

export class NoteDto {
  @ApiProperty({ maxLength: 4000 })
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  text!: string;
}

export class ActionRequestDto {
  @ApiProperty({ enum: ACTIONS })
  @IsString()
  @MaxLength(100)
  action!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'payroll.limit_concurrency: {limit}; sessions.sweep_now: {org_id?}; webhooks.defer_endpoint: {org_id, endpoint_id}.',
  })
  @IsOptional()
  @IsObject()
  @Type(() => Object)
  params?: Record<string, unknown>;
}

export class PostmortemQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'markdown'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'markdown'])
  format?: 'json' | 'markdown';
}

export class IncidentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['rule', 'manual'] }) source!: string;
  @ApiProperty({ description: 'signal:scope[:resource] (one open incident per key).' }) dedup_key!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ type: String, nullable: true }) summary!: string | null;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty({ enum: CATEGORIES }) category!: string;
  @ApiProperty({ enum: INCIDENT_STATUSES }) status!: string;
  @ApiProperty({ type: String, nullable: true, enum: ['warning', 'critical'] }) level!: string | null;
  @ApiProperty({ type: String, nullable: true }) signal!: string | null;
  @ApiProperty({ type: String, nullable: true }) scope!: string | null;
  @ApiProperty() resource!: string;
  @ApiProperty({ description: 'The condition is flapping: one quiet incident until it settles.' }) flapping!: boolean;
  @ApiProperty() orgs_affected!: number;
  @ApiProperty({ type: Number, nullable: true }) first_value!: number | null;
  @ApiProperty({ type: Number, nullable: true }) worst_value!: number | null;
  @ApiProperty({ type: Number, nullable: true }) last_value!: number | null;
  @ApiProperty({ format: 'date-time' }) opened_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) acknowledged_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) mitigated_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolved_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) closed_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) cancelled_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) lessons!: string | null;
  @ApiProperty() created_by!: string;
}

export class IncidentPageDto {
  @ApiProperty({ type: [IncidentDto] }) items!: IncidentDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class TimelineEntryDto {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'state_changed' }) kind!: string;
  @ApiProperty({ example: 'system:incidents' }) actor!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: Record<string, unknown>;
}

export class TimelineDto {
  @ApiProperty({ type: [TimelineEntryDto] }) items!: TimelineEntryDto[];
}

export class ImpactEntryDto {
  @ApiProperty({ format: 'uuid' }) org_id!: string;
  @ApiProperty() org_name!: string;
  @ApiProperty({ type: [String] }) features!: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) counts!: Record<string, number>;
  @ApiProperty({ format: 'date-time' }) first_seen_at!: string;
  @ApiProperty({ format: 'date-time' }) last_seen_at!: string;
}

export class ImpactDto {
  @ApiProperty() orgs_affected!: number;
  @ApiProperty({ type: [ImpactEntryDto] }) orgs!: ImpactEntryDto[];
}

export class IncidentActionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ACTIONS }) action!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) params!: Record<string, unknown>;
  @ApiProperty() automatic!: boolean;
  @ApiProperty({ enum: ['applied', 'reverted', 'expired'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) applied_at!: string;
  @ApiProperty({ format: 'date-time', description: 'It lapses then unless its incident is still open.' })
  expires_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) reverted_at!: string | null;
  @ApiProperty() actor!: string;
}

export class RecommendationDto {
  @ApiProperty({
    example: 'payroll.pause_dispatch',
    description: 'A catalog action, or "manual" for an operator step.',
  })
  action!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'Safe (reversible, time-bounded) actions can be applied with POST …/actions.' })
  safe!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  params!: Record<string, unknown> | null;
  @ApiProperty({ description: 'Already applied and in force for this incident.' }) applied!: boolean;
}

export class RecommendationsDto {
  @ApiProperty({ type: [RecommendationDto] }) items!: RecommendationDto[];
  @ApiProperty({ type: [IncidentActionDto], description: 'Actions taken so far.' }) actions!: IncidentActionDto[];
}

export class CustomerIncidentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty({ enum: INCIDENT_STATUSES }) status!: string;
  @ApiProperty({ type: [String], example: ['payroll'] }) affected_features!: string[];
  @ApiProperty({ format: 'date-time' }) started_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolved_at!: string | null;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time' },
        status: { type: 'string' },
        message: { type: 'string' },
      },
    },
  })
  updates!: { at: string; status: string; message: string }[];
}

export class CustomerIncidentPageDto {
  @ApiProperty({ type: [CustomerIncidentDto] }) items!: CustomerIncidentDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class SignalDto {
  @ApiProperty({ example: 'disk_used_percent' }) signal!: string;
  @ApiProperty({ enum: ['process', 'host', 'cluster', 'org'] }) scope!: string;
  @ApiProperty({ description: 'Process id, host, org id or queue name; "" for the cluster.' }) resource!: string;
  @ApiProperty({ type: Number, nullable: true }) value!: number | null;
  @ApiProperty({ example: 'percent' }) unit!: string;
  @ApiProperty({ type: Number, nullable: true }) warning!: number | null;
  @ApiProperty({ type: Number, nullable: true }) critical!: number | null;
  @ApiProperty({ enum: ['ok', 'warning', 'critical', 'unknown'] }) state!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why it is unknown.' }) unknown_reason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) measured_at!: string | null;
}

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'warning', 'critical', 'unknown'], description: 'The worst state of any signal.' })
  state!: string;
  @ApiProperty({ type: [SignalDto] }) signals!: SignalDto[];
}

export class RuleStatsDto {
  @ApiProperty() fired!: number;
  @ApiProperty() flapped!: number;
  @ApiProperty({ type: Number, nullable: true }) median_seconds_to_resolve!: number | null;
  @ApiProperty() fired_without_impact!: number;
}

export class RuleDto {
  @ApiProperty() signal!: string;
  @ApiProperty() unit!: string;
  @ApiProperty() scope!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: Number, nullable: true }) warning!: number | null;
  @ApiProperty({ type: Number, nullable: true }) critical!: number | null;
  @ApiProperty() for_seconds!: number;
  @ApiProperty() keep_firing_for_seconds!: number;
  @ApiProperty({ type: 'object', properties: { warning: { type: 'string' }, critical: { type: 'string' } } })
  severity!: Record<string, string>;
  @ApiProperty({ enum: CATEGORIES }) category!: string;
  @ApiProperty({ type: [String], enum: ACTIONS }) auto_actions!: string[];
  @ApiProperty({ type: [String] }) recommendations!: string[];
  @ApiProperty({ type: RuleStatsDto }) stats!: RuleStatsDto;
  @ApiProperty({ type: [String], description: 'Suggestions for a rule that flapped or fired without impact.' })
  tuning!: string[];
}

export class RulesDto {
  @ApiProperty({ type: [RuleDto] }) items!: RuleDto[];
}
