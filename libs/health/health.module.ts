import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoreIndicators, EventLoopIndicator } from './core-indicators';
import { HealthController } from './health.controller';
import { LifecycleService } from './lifecycle.service';
import { ReadinessRegistry } from './readiness-registry';
import { ReadinessService } from './readiness.service';
import { WorkerHeartbeatService } from './worker-heartbeat.service';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [
    LifecycleService,
    ReadinessRegistry,
    ReadinessService,
    CoreIndicators,
    EventLoopIndicator,
    WorkerHeartbeatService,
  ],
  exports: [LifecycleService, ReadinessRegistry, ReadinessService, WorkerHeartbeatService, TerminusModule],
})
export class HealthModule {}
