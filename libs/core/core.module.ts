import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';
import { LifecycleService } from './lifecycle.service';
import { ReadinessRegistry } from './readiness-registry';

/**
 * The primitives every library needs (the clock, process lifecycle, the readiness registry), kept out of
 * the libraries that use them so that none of them has to import another in a cycle.
 */
@Global()
@Module({
  providers: [Clock, LifecycleService, ReadinessRegistry],
  exports: [Clock, LifecycleService, ReadinessRegistry],
})
export class CoreModule {}
