import { Module } from '@nestjs/common';
import { BackupsService } from './backups.service';
import { ConfigurationChecks, NODE_VERSION } from './configuration-checks';
import { PlatformChecks } from './platform-checks';
import { ReadinessReportService } from './readiness-report.service';
import { ReadinessController } from './readiness.controller';
import { ReadinessTask } from './readiness.task';

/**
 * The production-readiness report (GET /api/ops/readiness, `task readiness`): the platform's
 * own checks here, every feature's through the ProductionCheckRegistry.
 */
@Module({
  controllers: [ReadinessController],
  providers: [
    { provide: NODE_VERSION, useValue: process.versions.node },
    PlatformChecks,
    ConfigurationChecks,
    BackupsService,
    ReadinessReportService,
    ReadinessTask,
  ],
})
export class ReadinessModule {}
