import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LifecycleService } from '../../libs/core';
import { RunExecutor } from '../../src/payroll/runs/run-executor.service';
import { createServiceContext, createTestDatabase, sql, TestDatabase, waitFor } from '../support';
import { expectedTotals, PERIOD, runsWithBrokenHistory, seedPayroll } from '../e2e/fixtures/payroll-seed';

/**
 * The payroll run executor on a real database, called directly: no HTTP, no dispatcher. A run
 * is claimed by hand (what the dispatcher's claim writes), then executed.
 */
/** Lease owners are worker instance ids (UUIDs). */
const [ownerA, ownerB, ownerC, ownerD, stranger] = Array.from({ length: 5 }, () => randomUUID());

describe('RunExecutor (service)', () => {
  let db: TestDatabase;
  let app: INestApplicationContext;
  const env = { PAYROLL_CHECKPOINT_EVERY: '10' };

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createServiceContext({ db, env });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const q = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => sql<T>(db.superuser, text, values);

  /** An org with drivers and tickets, and a run of PERIOD claimed by `owner`. */
  async function claimedRun(tickets: number, owner: string): Promise<{ orgId: string; runId: string }> {
    const orgId = randomUUID();
    await q(`INSERT INTO orgs (id, name, plan) VALUES ($1, 'Service Org', 'pro')`, [orgId]);
    await seedPayroll(db.superuser, orgId, 9, tickets);
    const [run] = await q<{ id: string }>(
      `INSERT INTO payroll_runs (org_id, pay_period_start, pay_period_end, status, lease_owner, lease_expires_at, started_at)
       VALUES ($1, $2, $3, 'running', $4, now() + interval '1 hour', now()) RETURNING id`,
      [orgId, PERIOD.start, PERIOD.end, owner],
    );
    await q(
      `INSERT INTO payroll_run_events (org_id, run_id, from_status, to_status, actor, reason)
       VALUES ($1, $2, NULL, 'queued', 'test', 'requested'), ($1, $2, 'queued', 'running', 'test', 'claimed')`,
      [orgId, run.id],
    );
    return { orgId, runId: run.id };
  }

  const runRow = async (id: string) =>
    (
      await q<{
        status: string;
        processed_tickets: number;
        gross_cents: string;
        net_cents: string;
        held_cents: string;
      }>(`SELECT status, processed_tickets, gross_cents, net_cents, held_cents FROM payroll_runs WHERE id = $1`, [id])
    )[0];

  it('executes a claimed run to the end: totals equal the calculator, each ticket paid once', async () => {
    const { orgId, runId } = await claimedRun(400, ownerA);
    await app.get(RunExecutor).execute(runId, orgId, ownerA);
    const run = await runRow(runId);
    const expected = await expectedTotals(db.superuser, orgId);
    expect(['completed', 'completed_with_flags']).toContain(run.status);
    expect(run.processed_tickets).toBe(400);
    expect(Number(run.gross_cents)).toBe(expected.totals.grossCents);
    expect(Number(run.net_cents)).toBe(expected.totals.netCents);
    const dupes = await q(
      `SELECT line_key FROM payroll_run_lines WHERE run_id = $1 GROUP BY run_id, line_key, kind HAVING count(*) > 1`,
      [runId],
    );
    expect(dupes).toEqual([]);
  });

  it('does nothing with a run whose lease another worker holds', async () => {
    const { orgId, runId } = await claimedRun(50, ownerB);
    await app.get(RunExecutor).execute(runId, orgId, stranger);
    expect(await runRow(runId)).toMatchObject({ status: 'running', processed_tickets: 0 });
    const lines = await q(`SELECT 1 FROM payroll_run_lines WHERE run_id = $1`, [runId]);
    expect(lines).toEqual([]);
  });

  it('stops at a checkpoint when its worker shuts down; another resumes at the cursor and pays the same', async () => {
    const { orgId, runId } = await claimedRun(3000, ownerC);
    const first = app.get(RunExecutor).execute(runId, orgId, ownerC);
    await waitFor(async () => (await runRow(runId)).processed_tickets > 0, 30_000, 5);
    app.get(LifecycleService).beginShutdown();
    await first;
    const stopped = await runRow(runId);
    expect(stopped.status).toBe('queued');
    expect(stopped.processed_tickets).toBeGreaterThan(0);
    expect(stopped.processed_tickets).toBeLessThan(3000);

    // Another worker (a fresh process: its own lifecycle) claims it and finishes it.
    const other = await createServiceContext({ db, env });
    try {
      await q(
        `UPDATE payroll_runs SET status = 'running', lease_owner = $2, lease_expires_at = now() + interval '1 hour'
         WHERE id = $1`,
        [runId, ownerD],
      );
      await q(
        `INSERT INTO payroll_run_events (org_id, run_id, from_status, to_status, actor, reason)
         VALUES ($1, $2, 'queued', 'running', 'test', 'claimed again')`,
        [orgId, runId],
      );
      await other.get(RunExecutor).execute(runId, orgId, ownerD);
    } finally {
      await other.close();
    }
    const done = await runRow(runId);
    const expected = await expectedTotals(db.superuser, orgId);
    expect(['completed', 'completed_with_flags']).toContain(done.status);
    expect(done.processed_tickets).toBe(3000);
    expect(Number(done.gross_cents)).toBe(expected.totals.grossCents);
    expect(Number(done.held_cents)).toBe(expected.totals.heldCents);
    const [{ n }] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM payroll_run_lines WHERE run_id = $1 AND kind = 'ticket'`,
      [runId],
    );
    expect(n).toBe(3000);
    expect(await runsWithBrokenHistory(db.superuser)).toEqual([]);
  });
});
