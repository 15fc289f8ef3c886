import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit.service';

/** Global so that any feature can record audit events without importing the audit feature. */
@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditLogModule {}
