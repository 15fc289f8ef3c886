import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoreIndicators, EventLoopIndicator } from './core-indicators';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';
import { WorkerHeartbeatService } from './worker-heartbeat.service';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController],
  providers: [ReadinessService, CoreIndicators, EventLoopIndicator, WorkerHeartbeatService],
  exports: [ReadinessService, TerminusModule],
})
export class HealthModule {}
