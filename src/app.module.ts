import { DynamicModule, Module, Type } from '@nestjs/common';
import { AppConfig, AppRole, ConfigModule } from '../libs/config';
import { DatabaseModule } from '../libs/database';
import { EventsModule } from '../libs/events';
import { HealthModule } from '../libs/health';
import { HttpModule } from '../libs/http';
import { ObservabilityModule } from '../libs/observability';
import { QueueModule } from '../libs/queue';
import { TasksModule } from '../libs/tasks';
import { AuditLogModule } from '../libs/audit';
import { CoreModule } from '../libs/core';
import { AuthModule } from '../libs/auth';
import { CryptoModule } from '../libs/crypto';
import { AuditModule } from './audit/audit.module';
import { AgentsModule } from './agents/agents.module';
import { IncidentsModule } from './incidents/incidents.module';
import { OrgsModule } from './orgs/orgs.module';
import { PayrollModule } from './payroll/payroll.module';
import { ReadinessModule } from './readiness/readiness.module';
import { SessionsModule } from './sessions/sessions.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkflowsModule } from './workflows/workflows.module';

/** Feature modules, in the order they are composed. */
export const FEATURE_MODULES: Type[] = [
  OrgsModule,
  AuditModule,
  PayrollModule,
  SessionsModule,
  WebhooksModule,
  IncidentsModule,
  AgentsModule,
  WorkflowsModule,
  ReadinessModule,
];

/**
 * The one module graph for every role. The role is an injected token; libraries read it to
 * decide whether to consume queues (worker, all) or run cron, never by NODE_ENV.
 */
@Module({})
export class AppModule {
  static forRole(config: AppConfig, role: AppRole, extra: (Type | DynamicModule)[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, role),
        CoreModule,
        ObservabilityModule,
        DatabaseModule,
        HealthModule,
        QueueModule,
        EventsModule,
        CryptoModule,
        AuditLogModule,
        // Guard order: rate limit and authentication before the generic HTTP checks.
        AuthModule,
        HttpModule,
        TasksModule,
        ...FEATURE_MODULES,
        ...extra,
      ],
    };
  }
}
