import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ClusterCronService } from './cluster-cron.service';
import { JobRegistry } from './job-registry.service';
import { QueueDepthMetrics } from './queue-depth.metrics';
import { QueueIndicator } from './queue.indicator';
import { QueueService } from './queue.service';

@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [QueueService, JobRegistry, ClusterCronService, QueueIndicator, QueueDepthMetrics],
  exports: [QueueService, JobRegistry, ClusterCronService, QueueDepthMetrics],
})
export class QueueModule {}
