import { Injectable, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessRegistry } from '../core';
import { QueueService } from './queue.service';

/** Readiness: pg-boss is started (not starting, stopping or failed). */
@Injectable()
export class QueueIndicator implements OnModuleInit {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ReadinessRegistry,
    private readonly queue: QueueService,
  ) {}

  onModuleInit(): void {
    this.registry.register('queue', async () => {
      const check = this.indicators.check('queue');
      const state = this.queue.state;
      return state === 'started'
        ? check.up({ state })
        : check.down({ state, message: this.queue.error ?? 'pg-boss is not running' });
    });
  }
}
