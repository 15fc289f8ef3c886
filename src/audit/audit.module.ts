import { Module } from '@nestjs/common';
import { AuditLogModule } from '../../libs/audit';
import { AuditVerifyTask } from './audit-verify.task';
import { AuditController } from './audit.controller';
import { AuditProductionCheck } from './audit-production-check';

/** The audit feature: the HTTP read API and the chain verification task over the shared audit log. */
@Module({
  imports: [AuditLogModule],
  controllers: [AuditController],
  providers: [AuditVerifyTask, AuditProductionCheck],
})
export class AuditModule {}
