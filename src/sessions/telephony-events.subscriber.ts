import { Injectable, Logger } from '@nestjs/common';
import { TenantContext } from '../../libs/database';
import { OnDomainEvent } from '../../libs/events';
import type { DomainEvent } from '../../libs/events';
import { CallsService } from './calls.service';
import { Call } from './entities/call.entity';

/** What the webhooks feature publishes for a provider's call status callback. */
export interface TelephonyCallStatus {
  call_sid: string;
  call_status: string;
  from: string | null;
  to: string | null;
  sequence_number?: number;
}

/** Provider statuses that end a call (Twilio's names). */
export const ENDING_CALL_STATUSES = ['completed', 'no-answer', 'busy', 'failed', 'canceled'];

/**
 * Ends our call when the telephony provider says the call is over. The call is found by
 * `external_id` = the provider's call id. CallsService.end decides the final state: a queued
 * call (never offered to anyone) becomes `abandoned`, a ringing or in-progress one `completed`;
 * either way `end_reason` is `provider:<status>` (e.g. `provider:no-answer`). Statuses that are
 * not an end (queued, ringing, in-progress) and unknown calls are ignored. Idempotent: `end` on
 * an ended call changes nothing, so redelivery or an out-of-order late status is harmless.
 */
@Injectable()
export class TelephonyEventsSubscriber {
  private readonly logger = new Logger('TelephonyEvents');

  constructor(
    private readonly tenant: TenantContext,
    private readonly calls: CallsService,
  ) {}

  @OnDomainEvent('telephony.call.status')
  async onCallStatus(event: DomainEvent<TelephonyCallStatus>): Promise<void> {
    const { call_sid: callSid, call_status: status } = event.data;
    if (!ENDING_CALL_STATUSES.includes(status)) return;
    await this.tenant.run(event.org_id, async () => {
      const call = await this.tenant.repo(Call).findOneBy({ externalId: callSid });
      if (!call) {
        this.logger.log({ org_id: event.org_id, call_sid: callSid, status }, 'call status for an unknown call ignored');
        return;
      }
      await this.calls.end(call.id, `provider:${status}`);
    });
  }
}
