import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { LifecycleService } from './lifecycle.service';
import { ProductionCheckRegistry } from './production-checks';
import { ReadinessRegistry } from './readiness-registry';

/**
 * The primitives every library needs (the clock, process lifecycle, the readiness and production-check registries), kept out of
 * the libraries that use them so that none of them has to import another in a cycle.
 */
@Global()
@Module({
  providers: [Clock, LifecycleService, ReadinessRegistry, ProductionCheckRegistry],
  exports: [Clock, LifecycleService, ReadinessRegistry, ProductionCheckRegistry],
})
export class CoreModule {}
