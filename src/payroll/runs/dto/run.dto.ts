import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import { PageQueryDto } from '../../../../libs/http';
import { RUN_STATUSES } from '../entities/payroll-run.entity';
import type { RunStatus } from '../entities/payroll-run.entity';

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export class StartRunDto {
  @ApiProperty({ example: '2026-11-01', description: 'First day of the pay period (inclusive).' })
  @Matches(DATE, { message: 'pay_period_start must be a date YYYY-MM-DD' })
  pay_period_start!: string;

  @ApiProperty({ example: '2026-11-14', description: 'Last day (inclusive); at most 31 days in all.' })
  @Matches(DATE, { message: 'pay_period_end must be a date YYYY-MM-DD' })
  pay_period_end!: string;

  @ApiPropertyOptional({ description: 'Re-run a completed period; the old run becomes superseded.' })
  @IsOptional()
  @IsBoolean()
  replace?: boolean;
}

export class ListRunsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: RUN_STATUSES })
  @IsOptional()
  @IsIn(RUN_STATUSES)
  status?: RunStatus;
}

export const CONTROL_ACTIONS = ['pause', 'resume', 'cancel', 'retry', 'pause_all', 'resume_all'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export class ControlDto {
  @ApiProperty({ enum: CONTROL_ACTIONS })
  @IsIn(CONTROL_ACTIONS)
  action!: ControlAction;

  @ApiPropertyOptional({ format: 'uuid', description: 'Required for pause, resume, cancel and retry.' })
  @IsOptional()
  @IsUUID()
  job_id?: string;
}

export class RunAcceptedDto {
  @ApiProperty({ format: 'uuid' }) job_id!: string;
  @ApiProperty({ enum: RUN_STATUSES }) status!: RunStatus;
  @ApiProperty({ nullable: true, type: Number, description: '1-based place in global dispatch order.' })
  queue_position!: number | null;
}

export class RunProgressDto {
  @ApiProperty() processed_tickets!: number;
  @ApiProperty() total_tickets!: number;
}

export class RunTotalsDto {
  @ApiProperty() gross_cents!: number;
  @ApiProperty() deductions_cents!: number;
  @ApiProperty() net_cents!: number;
  @ApiProperty() held_cents!: number;
}

export class RunWarningDto {
  @ApiProperty({ enum: ['NO_TICKETS'] }) code!: 'NO_TICKETS';
  @ApiProperty() message!: string;
}

export class RunFlagsDto {
  @ApiProperty({ description: 'Held lines and statements (blocking flags).' }) blocking!: number;
  @ApiProperty({ description: 'Warnings on lines, statements and the run itself.' }) warning!: number;
  @ApiProperty({
    type: [RunWarningDto],
    description: 'Warnings about the run as a whole: NO_TICKETS when the period has no ticket.',
  })
  run!: RunWarningDto[];
}

export class RunDto extends RunAcceptedDto {
  @ApiProperty() pay_period_start!: string;
  @ApiProperty() pay_period_end!: string;
  @ApiProperty({ type: RunProgressDto }) progress!: RunProgressDto;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) last_error!: string | null;
  @ApiProperty({ nullable: true, type: String }) paused_reason!: string | null;
  @ApiProperty({ type: RunTotalsDto }) totals!: RunTotalsDto;
  @ApiProperty({ type: RunFlagsDto }) flags!: RunFlagsDto;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) finished_at!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) next_attempt_at!: string | null;
}

export class RunPageDto {
  @ApiProperty({ type: [RunDto] }) items!: RunDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}

export class QueuedRunDto {
  @ApiProperty({ format: 'uuid' }) job_id!: string;
  @ApiProperty() position!: number;
}

export class OrgQueueDto {
  @ApiProperty({ type: [String] }) running!: string[];
  @ApiProperty({ type: [QueuedRunDto] }) queued!: QueuedRunDto[];
}

export class QueueStatusDto {
  @ApiProperty() max_concurrent!: number;
  @ApiProperty() running_global!: number;
  @ApiProperty() queued_global!: number;
  @ApiProperty() paused_all!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Why nothing new starts (pause_all or a health gate).' })
  paused_reason!: string | null;
  @ApiProperty({ type: OrgQueueDto }) org!: OrgQueueDto;
}
