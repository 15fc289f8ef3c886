import { Injectable, Logger } from '@nestjs/common';
import { TenantContext } from '../../../libs/database';
import { JobHandler } from '../../../libs/queue';
import type { JobContext } from '../../../libs/queue';
import { CallRouter, OFFER_TIMEOUT_QUEUE } from '../call-router.service';
import type { OfferTimeoutJob } from '../call-router.service';

/**
 * Fires CALL_OFFER_TIMEOUT_SECONDS after an offer: if that same offer is still ringing, the
 * call goes to the next agent and the one who missed it cools down. Idempotent: a second run
 * finds the offer count moved on and does nothing.
 */
@Injectable()
export class CallOfferTimeoutJob {
  private readonly logger = new Logger('CallOffers');

  constructor(
    private readonly tenant: TenantContext,
    private readonly router: CallRouter,
  ) {}

  @JobHandler(OFFER_TIMEOUT_QUEUE, { queue: { retryLimit: 3, retryDelay: 2 }, workers: 2 })
  async handle(job: OfferTimeoutJob, context: JobContext): Promise<void> {
    const offered = await this.tenant.run(job.org_id, async () => {
      if (!(await this.router.releaseOfferIn(job.call_id, job.offer_count))) return undefined;
      return this.router.offerQueuedIn();
    });
    if (offered === undefined) return;
    this.logger.log(
      { org_id: job.org_id, call_id: job.call_id, offer: job.offer_count, job_id: context.id, offered },
      'call offer timed out: the call is queued again and the agent cools down',
    );
  }
}
