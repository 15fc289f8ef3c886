import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { READINESS_STATUSES } from '../session-readiness.service';
import type { ReadinessCounts, ReadinessStatus, SessionReadinessReport } from '../session-readiness.service';
import type { SweepCounts } from '../stuck-states';

/** What one sweep fixed (POST) or would fix (readiness), per kind of stuck state. */
export class SweepCountsDto implements SweepCounts {
  @ApiProperty({
    description: 'Silent agents (no heartbeat for SESSION_OFFLINE_AFTER_SECONDS, no live call) set offline.',
  })
  taken_offline!: number;

  @ApiProperty({ description: 'Open sessions silent for SESSION_ABANDON_AFTER_SECONDS closed as abandoned.' })
  sessions_closed!: number;

  @ApiProperty({ description: 'current_call_id pointing at no live call of the session, re-pointed or cleared.' })
  call_pointers_cleared!: number;

  @ApiProperty({ description: 'active_calls that did not match the live calls of the session.' })
  active_calls_recomputed!: number;

  @ApiProperty({ description: 'pending_status applied to sessions without live calls.' })
  pending_applied!: number;

  @ApiProperty({ description: 'Ringing offers past reserved_until released and re-queued.' })
  offers_released!: number;

  @ApiProperty({ description: 'Silent agents on a live call flagged (stale_flagged_at), not taken offline.' })
  stale_on_call_flagged!: number;

  @ApiProperty({
    description:
      'Calls queued for over 2 s while an agent of their org was routable (e.g. a wrap-up or cooldown that ended ' +
      'with no worker to notice): offered by the router (for a sweep: the calls it offered).',
  })
  queued_calls_offered!: number;
}

export class ReadinessCountsDto extends SweepCountsDto implements ReadinessCounts {
  @ApiProperty() open_sessions!: number;
  @ApiProperty({ description: 'Calls ringing or in progress.' }) live_calls!: number;
  @ApiProperty() queued_calls!: number;
}

export class SessionReadinessDto implements SessionReadinessReport {
  @ApiProperty({
    enum: READINESS_STATUSES,
    description:
      'NOT_READY: database unreachable; NEEDS_MIGRATION: migrations pending or session schema incomplete; ' +
      'NEEDS_SESSION_CLEANUP: stuck states the sweeper would fix; READY otherwise.',
  })
  status!: ReadinessStatus;

  @ApiProperty() schema_ready!: boolean;

  @ApiProperty({ type: Boolean, nullable: true, description: 'No stuck state; null when it cannot be counted.' })
  sessions_clean!: boolean | null;

  @ApiProperty({ type: ReadinessCountsDto, nullable: true, description: 'Stuck states as "would fix" counts.' })
  counts!: ReadinessCountsDto | null;

  @ApiProperty({ type: [String] }) pending_migrations!: string[];

  @ApiProperty({ type: [String], example: ['agent_sessions.stale_flagged_at', 'index:agent_sessions_one_open'] })
  missing_schema!: string[];

  @ApiPropertyOptional() error?: string;
}
