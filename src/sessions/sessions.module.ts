import { Module } from '@nestjs/common';
import { CallRouter } from './call-router.service';

/** Call-center agents' presence, inbound-call routing, and the sweeper that keeps them honest. */
@Module({
  controllers: [],
  providers: [CallRouter],
  exports: [CallRouter],
})
export class SessionsModule {}
