import { Module } from '@nestjs/common';
import { CallRouter } from './call-router.service';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';
import { CallOfferTimeoutJob } from './jobs/call-offer-timeout.job';

/** Call-center agents' presence, inbound-call routing, and the sweeper that keeps them honest. */
@Module({
  controllers: [CallsController],
  providers: [CallRouter, CallsService, CallOfferTimeoutJob],
  exports: [CallRouter],
})
export class SessionsModule {}
