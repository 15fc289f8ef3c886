import { Module } from '@nestjs/common';
import { PayrollModule } from '../payroll/payroll.module';
import { SessionsModule } from '../sessions/sessions.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { IncidentActions } from './actions.service';
import { IncidentAlerts } from './alerts/incident-alerts';
import { OpsAlertJobHandler } from './alerts/ops-alert.job';
import { CriticalIncidentsModule } from './critical-incidents.provider';
import { IncidentDetector } from './detection/incident-detector.service';
import { ImpactService } from './impact.service';
import { IncidentLifecycle } from './incident-lifecycle.service';
import { IncidentTimeline } from './incident-timeline';
import { IncidentsRetention } from './incidents-retention.service';
import { IncidentsController } from './incidents.controller';
import { OpsHealthController } from './ops-health.controller';
import { OpsIncidentsController } from './ops-incidents.controller';
import { OpsIncidentsService } from './ops-incidents.service';
import { OrgIncidents } from './org-incidents';
import { PostmortemService } from './postmortem.service';
import { RuleStatsService } from './rule-stats';
import { HealthView } from './signals/health-view';
import { IncidentRules } from './signals/incident-rules';
import { OpsAlertFailures } from './signals/ops-alert-failures';
import { ProcessSampler } from './signals/process-sampler';
import { SignalReadings } from './signals/signal-readings';
import { IncidentsProductionCheck } from './incidents-production-check';

/**
 * Health signals measured by every process, incidents detected from them across the cluster,
 * their customer impact, safe self-reverting stabilization, postmortems and alerts.
 */
@Module({
  imports: [PayrollModule, SessionsModule, WebhooksModule, CriticalIncidentsModule],
  controllers: [OpsHealthController, OpsIncidentsController, IncidentsController],
  providers: [
    IncidentRules,
    ProcessSampler,
    OpsAlertFailures,
    SignalReadings,
    HealthView,
    IncidentTimeline,
    ImpactService,
    IncidentActions,
    IncidentAlerts,
    OpsAlertJobHandler,
    IncidentLifecycle,
    IncidentDetector,
    OpsIncidentsService,
    PostmortemService,
    RuleStatsService,
    IncidentsRetention,
    OrgIncidents,
    IncidentsProductionCheck,
  ],
  exports: [OrgIncidents],
})
export class IncidentsModule {}

export { OrgIncidents } from './org-incidents';
export type { CustomerIncidentDto } from './dto/incident.dto';
