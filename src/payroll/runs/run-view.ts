import type { RunDto } from './dto/run.dto';
import type { PayrollRun } from './entities/payroll-run.entity';

export function toRunDto(r: PayrollRun, queuePosition: number | null): RunDto {
  return {
    job_id: r.id,
    status: r.status,
    queue_position: r.status === 'queued' ? queuePosition : null,
    pay_period_start: r.payPeriodStart,
    pay_period_end: r.payPeriodEnd,
    progress: { processed_tickets: r.processedTickets, total_tickets: r.totalTickets },
    attempts: r.attempts,
    last_error: r.lastError,
    paused_reason: r.pausedReason,
    totals: {
      gross_cents: Number(r.grossCents),
      deductions_cents: Number(r.deductionsCents),
      net_cents: Number(r.netCents),
      held_cents: Number(r.heldCents),
    },
    flags: { blocking: r.flagsBlocking, warning: r.flagsWarning, run: r.warnings ?? [] },
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
    next_attempt_at: r.status === 'queued' ? r.nextAttemptAt.toISOString() : null,
  };
}

/** Days between two YYYY-MM-DD dates (end - start), by UTC calendar. */
export function daysBetween(start: string, end: string): number {
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
}

export function isCalendarDate(value: string): boolean {
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}
