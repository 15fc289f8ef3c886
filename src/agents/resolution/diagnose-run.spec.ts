import type { RunEvidence } from '../../payroll/payroll.module';
import { diagnoseRun, money } from './diagnose-run';

const run = (over: Partial<RunEvidence['run']> = {}): RunEvidence['run'] => ({
  id: 'r1',
  status: 'completed',
  pay_period_start: '2026-11-02',
  pay_period_end: '2026-11-15',
  attempts: 1,
  last_error: null,
  processed_tickets: 1,
  total_tickets: 1,
  flags_blocking: 0,
  flags_warning: 0,
  held_cents: 0,
  net_cents: 0,
  warnings: [],
  ...over,
});
const thresholds = { excessive_hours_per_day: 14, outlier_multiple: 3, outlier_min_tickets: 5 };

describe('diagnoseRun', () => {
  it('formats cents exactly', () => {
    expect(money(0)).toBe('0.00');
    expect(money(1000000)).toBe('10000.00');
    expect(money(-5)).toBe('-0.05');
    expect(money(123456789012345)).toBe('1234567890123.45');
  });

  it('a clean run has nothing to fix and drafts no ticket', () => {
    const d = diagnoseRun({ run: run(), events: [], lines: [], flagged_lines: 0, shortfalls: [], thresholds });
    expect(d).toEqual({
      summary: 'Payroll run 2026-11-02..2026-11-15 completed with no flagged lines: nothing to fix.',
      diagnoses: [],
      ticket: null,
    });
  });

  it('a failed run counts its retries and drafts a high-priority ticket', () => {
    const events = [
      { from_status: null, to_status: 'queued', actor: 'a', reason: null, at: 't0' },
      { from_status: 'queued', to_status: 'running', actor: 'w', reason: null, at: 't1' },
      { from_status: 'running', to_status: 'queued', actor: 'w', reason: 'boom', at: 't2' },
      { from_status: 'queued', to_status: 'running', actor: 'w', reason: null, at: 't3' },
      { from_status: 'running', to_status: 'failed', actor: 'w', reason: 'boom', at: 't4' },
    ];
    const d = diagnoseRun({
      run: run({ status: 'failed', attempts: 2, last_error: 'boom' }),
      events,
      lines: [],
      flagged_lines: 0,
      shortfalls: [],
      thresholds,
    });
    expect(d.diagnoses[0]).toMatchObject({ code: 'RUN_FAILED', evidence: { retries: 1, attempts: 2 } });
    expect(d.ticket).toMatchObject({ priority: 'high', subject: 'Payroll run 2026-11-02..2026-11-15 failed' });
  });

  it('says when only the first flagged lines were read', () => {
    const d = diagnoseRun({
      run: run({ status: 'completed_with_flags' }),
      events: [],
      lines: [],
      flagged_lines: 250,
      shortfalls: [],
      thresholds,
    });
    expect(d.summary).toContain('The first 0 flagged lines are explained.');
  });
});
