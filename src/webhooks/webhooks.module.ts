import { Module } from '@nestjs/common';

/** Signed outbound deliveries and verified, exactly-once inbound provider events. */
@Module({
  controllers: [],
  providers: [],
  exports: [],
})
export class WebhooksModule {}
