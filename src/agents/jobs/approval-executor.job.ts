import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../../libs/audit';
import { DatabaseService, returningRows, TenantContext } from '../../../libs/database';
import { ClusterCron, JobHandler, QueueService } from '../../../libs/queue';
import { ApprovalsService, bindingProblem, EXECUTE_APPROVAL_QUEUE } from '../approvals.service';
import type { ExecuteApprovalJob } from '../approvals.service';
import { ApprovalRequest } from '../entities/approval-request.entity';
import { agentByKey } from '../registry/agent-registry';
import { missingScopes } from '../routing/permission-gate';
import { toolByName } from '../tools/tool-catalog';
import { ToolRunner } from '../tools/tool-runner.service';

/** An approval not executed this long after its decision is sent to the queue again. */
const REDRIVE_AFTER_SECONDS = 30;

/**
 * Executes approved requests in the worker, at most once each: the request row is locked and
 * moved approved → executing → executed in the same transaction as the tool's writes, so a
 * duplicate job (redrive, redelivery) finds it executed and does nothing; a failure rolls the
 * tool back and records `execution_failed` in a transaction of its own.
 */
@Injectable()
export class ApprovalExecutor {
  private readonly logger = new Logger('ApprovalExecutor');

  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly tools: ToolRunner,
    private readonly audit: AuditService,
    private readonly queue: QueueService,
    private readonly approvals: ApprovalsService,
  ) {}

  @JobHandler(EXECUTE_APPROVAL_QUEUE, { queue: { retryLimit: 3, retryDelay: 5, retryBackoff: true }, workers: 1 })
  async handle(data: ExecuteApprovalJob): Promise<void> {
    try {
      await this.tenant.run(data.org_id, () => this.execute(data.approval_id));
    } catch (err) {
      const message = (err as Error).message;
      this.logger.warn({ org_id: data.org_id, approval_id: data.approval_id }, `approved action failed: ${message}`);
      await this.tenant.run(data.org_id, () => this.fail(data.approval_id, message));
    }
  }

  async execute(id: string): Promise<void> {
    const m = this.tenant.manager;
    const a = await m.getRepository(ApprovalRequest).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!a || a.status !== 'approved') return;
    const problem = bindingProblem(a);
    if (problem) throw new Error(`refused: ${problem}`);
    // The gate again at execution: the agent must still be allowed the tool's scopes.
    const agent = agentByKey(a.agent);
    const tool = toolByName(a.tool)!;
    const missing = agent ? missingScopes(tool.scopes, agent.scopes, tool.scopes) : tool.scopes;
    if (!agent || missing.length) throw new Error(`refused: the ${a.agent} agent may not use ${a.tool}`);
    await m.query(`UPDATE approval_requests SET status = 'executing', updated_at = now() WHERE id = $1`, [id]);
    const result = await this.tools.run(a.tool, a.arguments, {
      approvalId: a.id,
      approvedBy: `${a.decidedByType}:${a.decidedBy}`,
    });
    await m.query(
      `UPDATE approval_requests SET status = 'executed', executed_at = now(), result = $2, error = NULL, updated_at = now()
       WHERE id = $1`,
      [id, JSON.stringify(result)],
    );
    await this.audit.record({
      actorType: 'system',
      actorId: 'agents',
      action: 'agents.approval.executed',
      targetType: 'approval_request',
      targetId: id,
      data: { tool: a.tool, tool_version: a.toolVersion, arguments_hash: a.argumentsHash, result },
    });
  }

  private async fail(id: string, message: string): Promise<void> {
    const moved = await returningRows(
      this.tenant.manager,
      `UPDATE approval_requests SET status = 'execution_failed', error = $2, updated_at = now()
       WHERE id = $1 AND status IN ('approved', 'executing') RETURNING id`,
      [id, message.slice(0, 2000)],
    );
    if (!moved.length) return;
    await this.audit.record({
      actorType: 'system',
      actorId: 'agents',
      action: 'agents.approval.execution_failed',
      targetType: 'approval_request',
      targetId: id,
      data: { error: message.slice(0, 2000) },
    });
  }

  /**
   * Cross-tenant on purpose: approvals whose job was lost are sent again, and pending requests
   * past their time expire (with an escalation each).
   */
  @ClusterCron('agents.approvals-sweep', { everyMs: 30_000 })
  async sweep(): Promise<{ redriven: number; expired: number }> {
    await this.db.whenConnected();
    const stale = (await this.db.system.query(
      `SELECT org_id, id FROM approval_requests
       WHERE status = 'approved' AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 100`,
      [REDRIVE_AFTER_SECONDS],
    )) as { org_id: string; id: string }[];
    for (const r of stale) {
      await this.queue.send(
        EXECUTE_APPROVAL_QUEUE,
        { org_id: r.org_id, approval_id: r.id } satisfies ExecuteApprovalJob,
        {
          singletonKey: r.id,
          singletonSeconds: REDRIVE_AFTER_SECONDS,
        },
      );
    }
    const due = (await this.db.system.query(
      `SELECT org_id, id FROM approval_requests WHERE status = 'pending' AND expires_at <= now() ORDER BY expires_at LIMIT 100`,
    )) as { org_id: string; id: string }[];
    for (const r of due) {
      await this.tenant.run(r.org_id, async () => {
        const a = await this.tenant.repo(ApprovalRequest).findOneBy({ id: r.id });
        if (a) await this.approvals.close(a, 'expired', 'the request expired');
      });
    }
    return { redriven: stale.length, expired: due.length };
  }
}
