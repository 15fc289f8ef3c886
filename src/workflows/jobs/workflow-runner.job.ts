import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Scope } from '../../../libs/auth';
import { AppConfig } from '../../../libs/config';
import { LifecycleService } from '../../../libs/core';
import { DatabaseService, returningRows, TenantContext } from '../../../libs/database';
import { EventPublisher } from '../../../libs/events';
import { MetricsService } from '../../../libs/observability';
import { ClusterCron, JobHandler, QueueService } from '../../../libs/queue';
import { backoffDelay, withTimeout } from '../../../libs/resilience';
import { AgentSteps } from '../../agents/agents.module';
import { WorkflowRun } from '../entities/workflow-run.entity';
import { WorkflowStep } from '../entities/workflow-step.entity';
import { plan } from '../patterns';
import type { PlannedStep, WorkflowSpec } from '../patterns';

export const ADVANCE_QUEUE = 'workflows.advance';
export interface AdvanceJob {
  org_id: string;
  run_id: string;
}

/** Tries of a step that throws (a transient failure) before the run fails. */
const STEP_ATTEMPTS = 3;

type Outcome = 'continue' | 'parked' | 'finished' | 'lost';

/**
 * Runs workflows in the worker. A run is advanced by whoever holds its lease (renewed with every
 * step). Each step is one transaction: the lease is checked under the run's row lock, the agent
 * runs, and the step's row (its output) and the run's progress commit together — so a worker
 * killed mid-step leaves nothing, and its successor, planning from the finished steps, never runs
 * a finished step again. A step that drafts approvals parks the run (no lease held) until every
 * one is decided.
 */
@Injectable()
export class WorkflowRunner {
  private readonly logger = new Logger('Workflows');
  private readonly executed;

  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly agents: AgentSteps,
    private readonly events: EventPublisher,
    private readonly queue: QueueService,
    private readonly config: AppConfig,
    private readonly app: LifecycleService,
    metrics: MetricsService,
  ) {
    this.executed = metrics.counter(
      'workflow_steps_executed_total',
      'Workflow steps executed by this process (committed), by pattern.',
      ['pattern'],
    );
  }

  @JobHandler(ADVANCE_QUEUE, { queue: { retryLimit: 2, retryDelay: 2 }, workers: 2 })
  async handle(data: AdvanceJob): Promise<void> {
    // The lease belongs to this claim, not to the process: two jobs of one run in one worker never both advance it.
    const lease = randomUUID();
    if (!(await this.tenant.run(data.org_id, () => this.claim(data.run_id, lease)))) return;
    for (;;) {
      if (this.app.shuttingDown) return;
      const outcome = await this.advance(data.org_id, data.run_id, lease);
      if (outcome !== 'continue') return;
    }
  }

  /** Takes the lease when it is free (or expired) and the org is below its running limit. */
  private async claim(id: string, lease: string): Promise<boolean> {
    const rows = await returningRows(
      this.tenant.manager,
      `UPDATE workflow_runs r SET status = 'running', lease_owner = $2,
         lease_expires_at = clock_timestamp() + make_interval(secs => $3),
         started_at = coalesce(started_at, now()), updated_at = now()
       WHERE r.id = $1 AND r.status IN ('queued', 'running')
         AND (r.lease_owner IS NULL OR r.lease_expires_at < clock_timestamp())
         AND (SELECT count(*) FROM workflow_runs o WHERE o.org_id = r.org_id AND o.id <> r.id AND o.status = 'running'
                AND o.lease_expires_at > now()) < $4
       RETURNING r.id`,
      [id, lease, this.config.get('WORKFLOW_LEASE_SECONDS'), this.config.get('WORKFLOW_MAX_CONCURRENT_PER_ORG')],
    );
    return rows.length > 0;
  }

  /** One step (or the end) of a run, as one transaction holding the run's row lock. */
  private async advance(orgId: string, id: string, lease: string): Promise<Outcome> {
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        return await this.tenant.run(orgId, () => this.stepOnce(id, lease, attempt));
      } catch (err) {
        if (attempt >= STEP_ATTEMPTS) {
          await this.tenant.run(orgId, () => this.finish(id, 'failed', null, (err as Error).message));
          return 'finished';
        }
        this.logger.warn(
          { org_id: orgId, run_id: id, attempt },
          `workflow step failed, retrying: ${(err as Error).message}`,
        );
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, { baseMs: 200, capMs: 2000, jitter: 0.2 })));
      }
    }
  }

  private async stepOnce(id: string, lease: string, attempt: number): Promise<Outcome> {
    const m = this.tenant.manager;
    const run = await m.getRepository(WorkflowRun).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!run || run.status !== 'running' || run.leaseOwner !== lease) return 'lost';
    const approvals = (await m.query(
      `SELECT status, error, decision_reason FROM approval_requests WHERE workflow_run_id = $1`,
      [id],
    )) as { status: string; error: string | null; decision_reason: string | null }[];
    const refused = approvals.find((a) => ['rejected', 'expired', 'cancelled', 'execution_failed'].includes(a.status));
    if (refused) {
      const why = refused.decision_reason ?? refused.error ?? refused.status;
      await this.finish(
        id,
        refused.status === 'execution_failed' ? 'failed' : 'cancelled',
        null,
        `approval ${refused.status}: ${why}`,
      );
      return 'finished';
    }
    if (approvals.some((a) => ['pending', 'approved', 'executing'].includes(a.status))) {
      await m.query(
        `UPDATE workflow_runs SET status = 'waiting_approval', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = $1`,
        [id],
      );
      return 'parked';
    }
    const done = await m.getRepository(WorkflowStep).find({ where: { runId: id }, order: { seq: 'ASC' } });
    const spec: WorkflowSpec = { pattern: run.pattern, agents: run.agents, input: run.input, options: run.options };
    const next = plan(
      spec,
      done.map((d) => ({ step: d.step, branch: d.branch, round: d.round, agent: d.agent, output: d.output })),
    );
    if (next.kind === 'done') {
      await this.finish(id, next.status, next.result, null);
      return 'finished';
    }
    await this.execute(run, next.steps[0], done.length + 1, attempt);
    return 'continue';
  }

  private async execute(run: WorkflowRun, s: PlannedStep, seq: number, attempt: number): Promise<void> {
    const m = this.tenant.manager;
    const started = process.hrtime.bigint();
    const out = await withTimeout(
      this.agents.run(
        s.agent,
        { message: s.input.message, context: s.input.context },
        { type: run.requestedByType, id: run.requestedBy, scopes: run.requestedScopes as Scope[] },
        run.id,
      ),
      this.config.get('WORKFLOW_STEP_TIMEOUT_MS'),
      `step ${seq} (${s.agent})`,
    );
    await m.query(
      `INSERT INTO workflow_steps (org_id, run_id, seq, step, branch, round, agent, input, output, tool_calls, duration_ms,
                                   attempts, executed_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        run.orgId,
        run.id,
        seq,
        s.step,
        s.branch,
        s.round,
        s.agent,
        JSON.stringify(s.input),
        JSON.stringify({
          answer: out.answer,
          evidence: out.evidence,
          confidence: out.confidence,
          approval_ids: out.approval_ids,
          denied: out.denied,
        }),
        JSON.stringify(out.tool_calls),
        Number(process.hrtime.bigint() - started) / 1e6,
        attempt,
        this.app.instanceId,
      ],
    );
    await m.query(
      `UPDATE workflow_runs SET steps_done = steps_done + 1, version = version + 1,
         lease_expires_at = clock_timestamp() + make_interval(secs => $2), updated_at = now() WHERE id = $1`,
      [run.id, this.config.get('WORKFLOW_LEASE_SECONDS')],
    );
    this.tenant.onCommit(() => this.executed.inc({ pattern: run.pattern }));
  }

  private async finish(
    id: string,
    status: 'completed' | 'escalated' | 'failed' | 'cancelled',
    result: Record<string, unknown> | null,
    error: string | null,
  ): Promise<void> {
    const rows = await returningRows<{ pattern: string }>(
      this.tenant.manager,
      `UPDATE workflow_runs SET status = $2, result = $3, error = $4, finished_at = now(), lease_owner = NULL,
         lease_expires_at = NULL, version = version + 1, updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running', 'waiting_approval') RETURNING pattern`,
      [id, status, result === null ? null : JSON.stringify(result), error],
    );
    if (!rows.length || status === 'cancelled') return;
    await this.events.publish(`workflow.${status}`, { workflow_id: id, pattern: rows[0].pattern, status, error });
  }

  /**
   * Cross-tenant on purpose: runs nobody advances (queued and never sent, a lease that expired
   * with its worker, or parked with every approval decided) are sent to the queue again.
   */
  @ClusterCron('workflows.redrive', { everyMs: 2000 })
  async redrive(): Promise<{ sent: number }> {
    await this.db.whenConnected();
    const rows = (await this.db.system.query(
      `SELECT r.org_id, r.id FROM workflow_runs r
       WHERE (r.status IN ('queued', 'running') AND (r.lease_expires_at IS NULL OR r.lease_expires_at < now())
              AND r.updated_at < now() - interval '2 seconds')
          OR (r.status = 'waiting_approval' AND NOT EXISTS (
                SELECT 1 FROM approval_requests a WHERE a.workflow_run_id = r.id AND a.status IN ('pending', 'approved', 'executing')))
       ORDER BY r.updated_at LIMIT 200`,
    )) as { org_id: string; id: string }[];
    for (const r of rows) {
      await this.db.system.query(
        `UPDATE workflow_runs SET status = 'running', updated_at = now() WHERE id = $1 AND status = 'waiting_approval'`,
        [r.id],
      );
      await this.queue.send(ADVANCE_QUEUE, { org_id: r.org_id, run_id: r.id } satisfies AdvanceJob, {
        singletonKey: r.id,
        singletonSeconds: 2,
      });
    }
    return { sent: rows.length };
  }
}
