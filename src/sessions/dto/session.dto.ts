import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../libs/http';
import { AGENT_STATUSES } from '../entities/agent-session.entity';
import type { AgentStatus } from '../entities/agent-session.entity';
import { PRESENCES } from '../presence';
import type { Presence } from '../presence';

export class LoginDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  agent_id!: string;

  @ApiPropertyOptional({ default: false, description: 'Whether the softphone is connected right now.' })
  @IsOptional()
  @IsBoolean()
  device_connected?: boolean;
}

export class HeartbeatDto {
  @ApiProperty({ description: 'Whether the softphone is connected right now.' })
  @IsBoolean()
  device_connected!: boolean;
}

export class ChangeStatusDto {
  @ApiProperty({ enum: AGENT_STATUSES })
  @IsIn(AGENT_STATUSES)
  status!: AgentStatus;

  @ApiPropertyOptional({ maxLength: 500, description: 'Required for away (kept as away_reason).' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class SessionListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: AGENT_STATUSES })
  @IsOptional()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only sessions the router may (or may not) use now.' })
  @IsOptional()
  @IsIn(['true', 'false'])
  routable?: 'true' | 'false';
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) agent_id!: string;
  @ApiProperty({ format: 'date-time' }) login_at!: string;
  @ApiProperty({ format: 'date-time', type: String, nullable: true }) logout_at!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'logout', description: 'logout, superseded, …' })
  end_reason!: string | null;
  @ApiProperty({ enum: AGENT_STATUSES }) status!: AgentStatus;
  @ApiProperty({ type: String, nullable: true }) away_reason!: string | null;
  @ApiProperty({
    enum: ['away', 'offline'],
    nullable: true,
    description: 'Asked for while calls were in hand; applied when the last one ends.',
  })
  pending_status!: 'away' | 'offline' | null;
  @ApiProperty({ format: 'date-time', type: String, nullable: true }) last_heartbeat!: string | null;
  @ApiProperty() device_connected!: boolean;
  @ApiProperty() active_calls!: number;
  @ApiProperty() capacity!: number;
  @ApiProperty({ format: 'uuid', type: String, nullable: true }) current_call_id!: string | null;
  @ApiProperty({ format: 'date-time', description: 'Not routable before this (wrap-up).' }) ready_at!: string;
  @ApiProperty({ enum: PRESENCES }) presence!: Presence;
  @ApiProperty({ description: 'Whether the router may put a call on this session now.' }) routable!: boolean;
}

export class SessionPageDto {
  @ApiProperty({ type: [SessionDto] }) items!: SessionDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
