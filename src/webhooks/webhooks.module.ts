import { Module } from '@nestjs/common';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';
import { DeliveryFanout } from './delivery-fanout.service';
import { DeliveryClaims } from './delivery-claims';
import { DeliveryOutcomes } from './delivery-outcomes';
import { DeliveryWorker } from './delivery-worker.service';
import { EndpointBreaker } from './endpoint-breaker';
import { DeliverWebhookJob } from './jobs/deliver-webhook.job';
import { EndpointsController } from './endpoints.controller';
import { EndpointsService } from './endpoints.service';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSignals } from './webhook-signals';
import { InboundController } from './inbound.controller';
import { InboundService } from './inbound.service';
import { ProcessInboundJob } from './jobs/process-inbound.job';
import { SourcesController } from './sources.controller';
import { SourcesService } from './sources.service';
import { WebhooksRetention } from './webhooks-retention.service';
import { WebhooksProductionChecks } from './webhooks-production-checks';

/** Signed outbound deliveries and verified, exactly-once inbound provider events. */
@Module({
  controllers: [EndpointsController, SourcesController, InboundController, DeliveriesController],
  providers: [
    EndpointsService,
    WebhookSecrets,
    SourcesService,
    InboundService,
    ProcessInboundJob,
    WebhooksRetention,
    DeliveriesService,
    DeliveryFanout,
    DeliveryClaims,
    DeliveryOutcomes,
    DeliveryWorker,
    EndpointBreaker,
    DeliverWebhookJob,
    WebhookSignals,
    WebhooksProductionChecks,
  ],
  exports: [WebhookSignals],
})
export class WebhooksModule {}

export { WebhookSignals } from './webhook-signals';
export { slackText, webhookRequest } from './standard-webhooks';
export { postJson } from './outbound-http';
export { nextAttempt } from './delivery-schedule';
