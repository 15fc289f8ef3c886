import { Body, Controller, Get, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { BackupsService } from './backups.service';
import { BackupReportDto, ReadinessReportDto, ReportBackupDto } from './dto/readiness.dto';
import { ReadinessReportService } from './readiness-report.service';

/** The production-readiness report and the backups it judges (platform:admin). */
@ApiTags('ops')
@Controller('api/ops')
@Scopes('platform:admin')
export class ReadinessController {
  constructor(
    private readonly report: ReadinessReportService,
    private readonly backups: BackupsService,
  ) {}

  @Get('readiness')
  @ApiOperation({
    summary:
      'Production-readiness report computed now: each check with its verdict (pass|warn|fail), the evidence it measured and the remedy; overall READY, NEEDS_ATTENTION or NOT_READY.',
  })
  @ApiOkResponse({ type: ReadinessReportDto })
  readiness(): Promise<ReadinessReportDto> {
    return this.report.report();
  }

  @Post('backups')
  @ApiOperation({
    summary:
      'Report a finished database backup (the readiness report checks the age of the newest against BACKUP_MAX_AGE_HOURS).',
  })
  @ApiCreatedResponse({ type: BackupReportDto })
  @ApiUnprocessableEntityResponse({ description: 'completed_at in the future, or no target and no BACKUP_TARGET' })
  reportBackup(@Body() body: ReportBackupDto, @CurrentPrincipal() p: Principal): Promise<BackupReportDto> {
    return this.backups.report(body, `${p.kind}:${p.subject}`);
  }
}
