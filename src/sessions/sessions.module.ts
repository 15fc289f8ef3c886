import { Module } from '@nestjs/common';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';
import { CallRouter } from './call-router.service';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';
import { CallOfferTimeoutJob } from './jobs/call-offer-timeout.job';
import { SessionWake } from './jobs/session-wake.service';
import { SessionMaintenanceController } from './session-maintenance.controller';
import { SessionMaintenanceTasks } from './session-maintenance.tasks';
import { SessionReadiness } from './session-readiness.service';
import { SessionSignals } from './session-signals';
import { SessionSweeper } from './session-sweeper.service';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { TelephonyEventsSubscriber } from './telephony-events.subscriber';
import { SessionsProductionCheck } from './sessions-production-check';

/** Call-center agents' presence, inbound-call routing, and the sweeper that keeps them honest. */
@Module({
  // AgentsController before SessionsController: GET api/sessions/agents must win over api/sessions/:session_id.
  controllers: [SessionMaintenanceController, CallsController, AgentsController, SessionsController],
  providers: [
    CallRouter,
    CallsService,
    CallOfferTimeoutJob,
    SessionWake,
    AgentsService,
    SessionsService,
    SessionSweeper,
    SessionReadiness,
    SessionMaintenanceTasks,
    TelephonyEventsSubscriber,
    SessionSignals,
    SessionsProductionCheck,
  ],
  exports: [SessionSignals],
})
export class SessionsModule {}

export { SessionSignals } from './session-signals';
