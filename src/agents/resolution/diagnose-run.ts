import type { FlaggedLineEvidence, RunEvidence } from '../../payroll/payroll.module';

/** One finding: a code, what it means here, the values that show it, and what to do. */
export interface Diagnosis {
  code: string;
  severity: 'blocking' | 'warning' | 'failure' | 'info';
  ticket_id: string | null;
  ticket_number: string | null;
  driver_id: string | null;
  explanation: string;
  evidence: Record<string, unknown>;
  fix: string;
}

export interface SupportTicketDraft {
  subject: string;
  body: string;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  payroll_run_id: string;
  ticket_ids: string[];
}

export interface RunDiagnosis {
  summary: string;
  diagnoses: Diagnosis[];
  /** Null when there is nothing to ask support about (a clean or unfinished run). */
  ticket: SupportTicketDraft | null;
}

const UNIT_OF_PAY: Record<string, string> = { per_ton: 'tons', per_yard: 'yards', per_load: 'loads', hourly: 'hours' };

/** Cents as a decimal amount, with integer arithmetic only (money is exact). */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function ticketName(l: FlaggedLineEvidence): string {
  return l.ticket_number ? `ticket ${l.ticket_number}` : `the ${l.kind} line`;
}

function lineFinding(l: FlaggedLineEvidence, code: string, t: RunEvidence['thresholds']): Diagnosis {
  const base = { code, ticket_id: l.ticket_id, ticket_number: l.ticket_number, driver_id: l.driver_id };
  const who = `${l.driver_name} (${l.pay_type})`;
  switch (code) {
    case 'MISSING_QUANTITY': {
      const unit = UNIT_OF_PAY[l.pay_type] ?? l.unit ?? 'quantity';
      return {
        ...base,
        severity: 'blocking',
        explanation: `${ticketName(l)} has no ${unit}; ${l.pay_type} drivers are paid by ${unit}, so the line is held.`,
        evidence: { pay_type: l.pay_type, driver: l.driver_name, ticket: l.ticket, work_date: l.work_date },
        fix: `add ${unit} to ${ticketName(l)} or change ${l.driver_name}'s pay type, then re-run the period with replace`,
      };
    }
    case 'MISSING_REVENUE':
      return {
        ...base,
        severity: 'blocking',
        explanation: `${ticketName(l)} has no revenue; ${who} is paid a percentage of revenue, so the line is held.`,
        evidence: { pay_type: l.pay_type, driver_rate: l.driver_rate, revenue_cents: l.ticket?.revenue_cents ?? null },
        fix: `add revenue_cents to ${ticketName(l)}, then re-run the period with replace`,
      };
    case 'MISSING_RATE':
      return {
        ...base,
        severity: 'blocking',
        explanation: `${who} has no pay rate (${l.driver_rate ?? 'none'}), so ${ticketName(l)} cannot be priced and is held.`,
        evidence: { driver: l.driver_name, driver_rate: l.driver_rate, pay_type: l.pay_type },
        fix: `set ${l.driver_name}'s rate, then re-run the period with replace`,
      };
    case 'DUPLICATE_TICKET': {
      const others = l.duplicates.map((d) => `${d.ticket_id} (${d.work_date})`).join(', ');
      return {
        ...base,
        severity: 'blocking',
        explanation: `ticket number ${l.ticket_number} is used by ${l.duplicates.length + 1} tickets (also ${others || 'another ticket'}); it is held so it is not paid twice.`,
        evidence: { ticket_number: l.ticket_number, this_ticket: l.ticket_id, duplicates: l.duplicates },
        fix: `delete the duplicate or give it its own ticket number, then re-run the period with replace`,
      };
    }
    case 'ZERO_AMOUNT':
      return {
        ...base,
        severity: 'warning',
        explanation: `${ticketName(l)} pays 0.00: quantity ${l.quantity ?? 'none'} ${l.unit ?? ''} at rate ${l.rate ?? 'none'}.`,
        evidence: { quantity: l.quantity, unit: l.unit, rate: l.rate, amount_cents: l.amount_cents },
        fix: `check the quantity and ${l.driver_name}'s rate; if the ticket is right, nothing to do`,
      };
    case 'EXCESSIVE_HOURS':
      return {
        ...base,
        severity: 'warning',
        explanation: `${l.driver_name} has ${l.day_hours ?? '?'} hours of tickets on ${l.work_date}, more than ${t.excessive_hours_per_day} in a day.`,
        evidence: {
          work_date: l.work_date,
          day_hours: l.day_hours,
          limit: t.excessive_hours_per_day,
          ticket_hours: l.ticket?.hours ?? null,
        },
        fix: `check the hours of ${l.driver_name}'s tickets on ${l.work_date} for a typo or a ticket on the wrong day`,
      };
    case 'QUANTITY_OUTLIER':
      return {
        ...base,
        severity: 'warning',
        explanation: `${ticketName(l)} has ${l.quantity} ${l.unit}, more than ${t.outlier_multiple}× ${l.driver_name}'s median of ${l.driver_median} ${l.unit} over ${l.driver_unit_tickets} tickets.`,
        evidence: {
          quantity: l.quantity,
          unit: l.unit,
          driver_median: l.driver_median,
          tickets: l.driver_unit_tickets,
          multiple: t.outlier_multiple,
        },
        fix: `check ${ticketName(l)} for a misplaced decimal point; if the load was real, nothing to do`,
      };
    default:
      return {
        ...base,
        severity: 'warning',
        explanation: `${ticketName(l)} carries the flag ${code}.`,
        evidence: { flags: l.flags },
        fix: 'review the line',
      };
  }
}

function failure(e: RunEvidence): Diagnosis {
  // A failed attempt puts the run back in the queue: running → queued.
  const retries = e.events.filter((ev) => ev.from_status === 'running' && ev.to_status === 'queued').length;
  return {
    code: 'RUN_FAILED',
    severity: 'failure',
    ticket_id: null,
    ticket_number: null,
    driver_id: null,
    explanation: `the run failed after ${e.run.attempts} attempt(s): ${e.run.last_error ?? 'no error recorded'}.`,
    evidence: { attempts: e.run.attempts, last_error: e.run.last_error, retries, events: e.events },
    fix: 'fix the cause named in the error, then retry the run (payroll control: retry) or enqueue the period again with replace',
  };
}

/**
 * The resolution agent's reading of a run, deterministic (the rules provider): every flagged
 * line's flags, the deduction shortfalls, a failure with its retries, and a support ticket draft
 * when something needs a human.
 */
export function diagnoseRun(e: RunEvidence): RunDiagnosis {
  const diagnoses: Diagnosis[] = [];
  if (e.run.status === 'failed') diagnoses.push(failure(e));
  for (const line of e.lines) for (const code of line.flags) diagnoses.push(lineFinding(line, code, e.thresholds));
  for (const s of e.shortfalls) {
    diagnoses.push({
      code: 'NET_SHORTFALL',
      severity: 'warning',
      ticket_id: null,
      ticket_number: null,
      driver_id: s.driver_id,
      explanation: `${s.driver_name}'s net pay could not cover "${s.deduction}": ${money(s.applied_cents)} of ${money(s.wanted_cents)} was deducted; ${money(s.shortfall_cents)} carries to the next run.`,
      evidence: { ...s },
      fix: 'nothing to do unless the deduction is wrong; the rest is taken from the next run',
    });
  }
  const blocking = diagnoses.filter((d) => d.severity === 'blocking').length;
  const warnings = diagnoses.filter((d) => d.severity === 'warning').length;
  const failed = e.run.status === 'failed';
  const unfinished =
    !failed && !['completed', 'completed_with_flags', 'superseded', 'cancelled'].includes(e.run.status);
  const period = `${e.run.pay_period_start}..${e.run.pay_period_end}`;
  let summary: string;
  if (failed) summary = `Payroll run ${period} failed; ${blocking} blocking and ${warnings} warning finding(s).`;
  else if (unfinished)
    summary = `Payroll run ${period} is ${e.run.status}; findings so far: ${blocking} blocking, ${warnings} warning.`;
  else if (!diagnoses.length) summary = `Payroll run ${period} completed with no flagged lines: nothing to fix.`;
  else
    summary = `Payroll run ${period}: ${blocking} blocking and ${warnings} warning finding(s) on ${e.flagged_lines} line(s).`;
  if (e.flagged_lines > e.lines.length) summary += ` The first ${e.lines.length} flagged lines are explained.`;
  const needsHuman = failed || blocking > 0;
  const ticket: SupportTicketDraft | null = needsHuman
    ? {
        subject: failed ? `Payroll run ${period} failed` : `Payroll run ${period}: ${blocking} blocking issue(s)`,
        body: [
          summary,
          '',
          ...diagnoses
            .filter((d) => d.severity === 'blocking' || d.severity === 'failure')
            .map((d) => `- [${d.code}] ${d.explanation} Fix: ${d.fix}.`),
        ].join('\n'),
        priority: failed ? 'high' : 'normal',
        payroll_run_id: e.run.id,
        ticket_ids: [...new Set(diagnoses.map((d) => d.ticket_id).filter((id): id is string => id !== null))],
      }
    : null;
  return { summary, diagnoses, ticket };
}
