import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { SessionReadinessDto, SweepCountsDto } from './dto/maintenance.dto';
import { SessionReadiness } from './session-readiness.service';
import { SessionSweeper } from './session-sweeper.service';

/**
 * The session sweeper and readiness report for the caller's org. Paths are absolute because
 * they live under two prefixes (`/api/cron`, `/api/sessions`).
 */
@ApiTags('sessions maintenance')
@Controller()
export class SessionMaintenanceController {
  constructor(
    private readonly sweeper: SessionSweeper,
    private readonly readiness: SessionReadiness,
  ) {}

  @Post('api/cron/session-cleanup')
  @HttpCode(200)
  @Scopes('sessions:admin')
  @ApiOperation({
    summary: "Run the session sweeper now for the caller's org (the worker also runs it on a schedule).",
  })
  @ApiOkResponse({ type: SweepCountsDto, description: 'What was fixed.' })
  cleanup(@CurrentPrincipal() principal: Principal): Promise<SweepCountsDto> {
    return this.sweeper.sweep({ orgId: principal.orgId! });
  }

  @Get('api/sessions/readiness')
  @Scopes('sessions:read')
  @ApiOperation({ summary: "Schema state and stuck-state counts of the caller's org's sessions and calls." })
  @ApiOkResponse({ type: SessionReadinessDto })
  readinessReport(@CurrentPrincipal() principal: Principal): Promise<SessionReadinessDto> {
    return this.readiness.report(principal.orgId!);
  }
}
