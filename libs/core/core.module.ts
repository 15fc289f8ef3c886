import { Global, Module } from '@nestjs/common';
import { LifecycleService } from './lifecycle.service';
import { ReadinessRegistry } from './readiness-registry';

/**
 * The primitives every library needs (process lifecycle, the readiness registry), kept out of
 * the libraries that use them so that none of them has to import another in a cycle.
 */
@Global()
@Module({ providers: [LifecycleService, ReadinessRegistry], exports: [LifecycleService, ReadinessRegistry] })
export class CoreModule {}
