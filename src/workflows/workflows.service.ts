import { Injectable } from '@nestjs/common';
import { AuditService } from '../../libs/audit';
import { auditActor } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { AppConfig } from '../../libs/config';
import { returningRows, TenantContext } from '../../libs/database';
import { idempotencyKeyError, newestFirstPage, ProblemException } from '../../libs/http';
import { QueueService } from '../../libs/queue';
import { AgentSteps } from '../agents/agents.module';
import type { CreateWorkflowDto, WorkflowDto, WorkflowPageDto, WorkflowSummaryDto } from './dto/workflow.dto';
import { WorkflowRun } from './entities/workflow-run.entity';
import type { WorkflowStatus } from './entities/workflow-run.entity';
import { WorkflowStep } from './entities/workflow-step.entity';
import { ADVANCE_QUEUE } from './jobs/workflow-runner.job';
import type { AdvanceJob } from './jobs/workflow-runner.job';
import { maxSteps } from './patterns';

function summary(r: WorkflowRun): WorkflowSummaryDto {
  return {
    id: r.id,
    pattern: r.pattern,
    agents: r.agents,
    status: r.status,
    steps_done: r.stepsDone,
    error: r.error,
    created_at: r.createdAt.toISOString(),
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}

/** Starting, reading and cancelling workflows of the current org. */
@Injectable()
export class WorkflowsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly queue: QueueService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly agents: AgentSteps,
  ) {}

  async create(
    principal: Principal,
    dto: CreateWorkflowDto,
    idempotencyKey?: string,
    requestId?: string,
  ): Promise<{ created: boolean; id: string; status: WorkflowStatus }> {
    const keyError = idempotencyKeyError(idempotencyKey);
    if (keyError) throw new ProblemException(400, 'The Idempotency-Key header is invalid.', { errors: [keyError] });
    if (dto.pattern === 'verification' && dto.agents.length !== 2) {
      throw new ProblemException(400, 'A verification workflow names two agents: [maker, checker].', {
        errors: [{ field: 'agents', message: 'exactly 2 agents for verification' }],
      });
    }
    if (dto.pattern === 'debate' && dto.agents.length < 2) {
      throw new ProblemException(400, 'A debate needs at least two agents.', {
        errors: [{ field: 'agents', message: 'at least 2 agents for debate' }],
      });
    }
    const options = { ...(dto.options ?? {}) };
    const limit = this.config.get('WORKFLOW_MAX_STEPS');
    const steps = maxSteps({
      pattern: dto.pattern,
      agents: dto.agents,
      input: { message: dto.input.message },
      options,
    });
    if (steps > limit) {
      throw new ProblemException(400, `This workflow could take ${steps} steps; the limit is ${limit}.`, {
        errors: [{ field: 'agents', message: `at most ${limit} steps (WORKFLOW_MAX_STEPS)` }],
      });
    }
    const repo = this.tenant.repo(WorkflowRun);
    if (idempotencyKey) {
      const same = await repo.findOneBy({ idempotencyKey });
      if (same) return { created: false, id: same.id, status: same.status };
    }
    const actor = auditActor(principal);
    const run = await repo.save({
      orgId: this.tenant.orgId,
      pattern: dto.pattern,
      agents: dto.agents,
      input: { message: dto.input.message, ...(dto.input.context ? { context: { ...dto.input.context } } : {}) },
      options,
      idempotencyKey: idempotencyKey ?? null,
      requestedByType: actor.actorType,
      requestedBy: actor.actorId,
      requestedScopes: [...principal.scopes],
    });
    await this.audit.record({
      ...actor,
      action: 'workflows.run.created',
      targetType: 'workflow_run',
      targetId: run.id,
      data: { pattern: dto.pattern, agents: dto.agents, max_steps: steps },
      requestId,
    });
    const orgId = this.tenant.orgId;
    this.tenant.onCommit(() => {
      // A lost send is picked up by the redrive cron.
      void this.queue
        .send(ADVANCE_QUEUE, { org_id: orgId, run_id: run.id } satisfies AdvanceJob, { singletonKey: run.id })
        .catch(() => undefined);
    });
    return { created: true, id: run.id, status: 'queued' };
  }

  async list(limit: number, cursor?: string, status?: WorkflowStatus): Promise<WorkflowPageDto> {
    const qb = this.tenant
      .repo(WorkflowRun)
      .createQueryBuilder('w')
      .where('w.org_id = :org', { org: this.tenant.orgId });
    if (status) qb.andWhere('w.status = :status', { status });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return { items: rows.map(summary), next_cursor };
  }

  async get(id: string): Promise<WorkflowDto> {
    const run = await this.tenant.repo(WorkflowRun).findOneBy({ id });
    if (!run) throw new ProblemException(404, 'No such workflow.');
    const steps = await this.tenant.repo(WorkflowStep).find({ where: { runId: id }, order: { seq: 'ASC' } });
    const escalation = run.result?.escalation;
    return {
      ...summary(run),
      input: run.input,
      options: run.options,
      result: run.result,
      steps: steps.map((s) => ({
        seq: s.seq,
        step: s.step,
        branch: s.branch,
        round: s.round,
        agent: s.agent,
        input: s.input,
        output: { ...s.output },
        tool_calls: s.toolCalls,
        duration_ms: s.durationMs,
        attempts: s.attempts,
        completed_at: s.createdAt.toISOString(),
      })),
      proposals: await this.agents.approvalsOf(id),
      escalations: escalation ? [escalation] : [],
    };
  }

  async cancel(principal: Principal, id: string, requestId?: string): Promise<WorkflowDto> {
    const actor = auditActor(principal);
    const why = `cancelled by ${actor.actorType}:${actor.actorId}`;
    const rows = await returningRows(
      this.tenant.manager,
      `UPDATE workflow_runs SET status = 'cancelled', error = $2, finished_at = now(), lease_owner = NULL,
         lease_expires_at = NULL, version = version + 1, updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running', 'waiting_approval') RETURNING id`,
      [id, why],
    );
    if (!rows.length) {
      const run = await this.tenant.repo(WorkflowRun).findOneBy({ id });
      if (!run) throw new ProblemException(404, 'No such workflow.');
      throw new ProblemException(409, `This workflow is ${run.status}; only a live one can be cancelled.`, {
        status_now: run.status,
      });
    }
    await this.agents.cancelPendingOf(id, why);
    await this.audit.record({
      ...actor,
      action: 'workflows.run.cancelled',
      targetType: 'workflow_run',
      targetId: id,
      requestId,
    });
    return this.get(id);
  }
}
