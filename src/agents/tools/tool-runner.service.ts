import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../libs/auth';
import { TenantContext } from '../../../libs/database';
import { EventPublisher } from '../../../libs/events';
import { ProblemException } from '../../../libs/http';
import { withTimeout } from '../../../libs/resilience';
import { OrgIncidents } from '../../incidents/incidents.module';
import { PayrollDiagnostics, PayrollRunsService, TicketCorrections } from '../../payroll/payroll.module';
import type { CorrectableQuantity } from '../../payroll/payroll.module';
import { SessionSignals } from '../../sessions/sessions.module';
import { WebhookSignals } from '../../webhooks/webhooks.module';
import type { SupportTicketDraft } from '../resolution/diagnose-run';
import { toolByName } from './tool-catalog';

/** Who executes a write tool: the approval that authorised it. */
export interface ExecutionGrant {
  approvalId: string;
  approvedBy: string;
}

/**
 * Runs tools in the current tenant transaction, through the features' exported services only.
 * A write tool needs an execution grant (an approval); without one it never runs.
 */
@Injectable()
export class ToolRunner {
  constructor(
    private readonly tenant: TenantContext,
    private readonly payroll: PayrollDiagnostics,
    private readonly runs: PayrollRunsService,
    private readonly corrections: TicketCorrections,
    private readonly incidents: OrgIncidents,
    private readonly sessions: SessionSignals,
    private readonly webhooks: WebhookSignals,
    private readonly events: EventPublisher,
  ) {}

  async run(name: string, input: Record<string, unknown>, grant?: ExecutionGrant): Promise<Record<string, unknown>> {
    const tool = toolByName(name);
    if (!tool) throw new ProblemException(400, `No such tool: ${name}.`);
    if (tool.approval === 'required' && !grant) {
      throw new ProblemException(403, `The tool ${name} runs only from an approved request.`);
    }
    return withTimeout(this.dispatch(name, input, grant), tool.timeout_ms, `tool ${name}`);
  }

  private async dispatch(
    name: string,
    input: Record<string, unknown>,
    grant?: ExecutionGrant,
  ): Promise<Record<string, unknown>> {
    switch (name) {
      case 'payroll.run_evidence':
        return { ...(await this.payroll.runEvidence(String(input.payroll_run_id))) };
      case 'payroll.ticket_run':
        return { payroll_run_id: await this.payroll.runOfTicket(String(input.ticket_id)) };
      case 'incidents.org_incidents': {
        if (typeof input.incident_id === 'string') {
          const one = await this.incidents.get(input.incident_id);
          return { incidents: one ? [one] : [] };
        }
        return { incidents: await this.incidents.recent() };
      }
      case 'sessions.call_center_state':
        return await this.sessions.callCenterState();
      case 'webhooks.endpoint_health':
        return {
          endpoints: await this.webhooks.endpointHealth(
            typeof input.endpoint_id === 'string' ? input.endpoint_id : undefined,
          ),
        };
      case 'payroll.correct_ticket':
        return {
          ...(await this.corrections.correctQuantity(
            String(input.ticket_id),
            input.field as CorrectableQuantity,
            String(input.value),
            (input.expected_current as string | null) ?? null,
          )),
        };
      case 'payroll.rerun_period':
        return this.rerun(input, grant!);
      case 'support.create_ticket':
        return this.createSupportTicket(input as unknown as SupportTicketDraft, grant!);
      default:
        throw new ProblemException(400, `No such tool: ${name}.`);
    }
  }

  /**
   * The approval's id is the run's idempotency key: a second execution gets the same run. The
   * run is enqueued in the approver's name.
   */
  private async rerun(input: Record<string, unknown>, grant: ExecutionGrant): Promise<Record<string, unknown>> {
    const [type, ...rest] = grant.approvedBy.split(':');
    const principal: Principal = {
      kind: type === 'user' ? 'jwt' : type === 'platform_key' ? 'platform_key' : 'api_key',
      subject: rest.join(':'),
      orgId: this.tenant.orgId,
      scopes: new Set(['payroll:run']),
    };
    const { run } = await this.runs.enqueue(
      principal,
      { pay_period_start: String(input.pay_period_start), pay_period_end: String(input.pay_period_end), replace: true },
      `approval:${grant.approvalId}`,
    );
    return { payroll_run_id: run.job_id, status: run.status };
  }

  /** One ticket per approval: a second execution finds the first one's row and emits nothing. */
  private async createSupportTicket(d: SupportTicketDraft, grant: ExecutionGrant): Promise<Record<string, unknown>> {
    const m = this.tenant.manager;
    const inserted = (await m.query(
      `INSERT INTO support_tickets (org_id, approval_id, subject, body, priority, payroll_run_id, ticket_ids, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8)
       ON CONFLICT (approval_id) DO NOTHING RETURNING id`,
      [
        this.tenant.orgId,
        grant.approvalId,
        d.subject,
        d.body,
        d.priority,
        d.payroll_run_id,
        d.ticket_ids,
        grant.approvedBy,
      ],
    )) as { id: string }[];
    if (inserted.length) {
      await this.events.publish('support_ticket.created', {
        support_ticket_id: inserted[0].id,
        subject: d.subject,
        priority: d.priority,
        payroll_run_id: d.payroll_run_id,
        ticket_ids: d.ticket_ids,
        approval_id: grant.approvalId,
      });
      return { support_ticket_id: inserted[0].id };
    }
    const [existing] = (await m.query(`SELECT id FROM support_tickets WHERE approval_id = $1`, [grant.approvalId])) as {
      id: string;
    }[];
    return { support_ticket_id: existing.id };
  }
}
