import Decimal from 'decimal.js';
import type { RunEvidence } from '../payroll/payroll.module';
import type { AgentKey } from './registry/agent-registry';
import { diagnoseRun } from './resolution/diagnose-run';
import type { AskInput } from './routing/intent-router';

/** Calls a tool through the permission gate (and records the call). */
export type ToolCaller = (tool: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** An action an agent drafts; it becomes an approval request, never an execution. */
export interface Proposal {
  tool: string;
  arguments: Record<string, unknown>;
  summary: string;
}

export interface AgentAnswer {
  answer: string;
  evidence: unknown[];
  proposals: Proposal[];
  /** 0..1: below LOW_CONFIDENCE the question also goes to a human. */
  confidence: number;
}

export const LOW_CONFIDENCE = 0.5;

type Context = NonNullable<AskInput['context']>;

async function resolution(input: AskInput, call: ToolCaller): Promise<AgentAnswer> {
  const ctx: Context = input.context ?? {};
  let runId = ctx.payroll_run_id;
  if (!runId && ctx.ticket_id) {
    runId =
      ((await call('payroll.ticket_run', { ticket_id: ctx.ticket_id })).payroll_run_id as string | null) ?? undefined;
    if (!runId) {
      return {
        answer: `Ticket ${ctx.ticket_id} has not been through a payroll run yet, so it has no flags to explain. Enqueue a run for its period.`,
        evidence: [{ ticket_id: ctx.ticket_id, payroll_run_id: null }],
        proposals: [],
        confidence: 0.9,
      };
    }
  }
  if (!runId) {
    return {
      answer: 'Which payroll run? Ask again with context.payroll_run_id (or context.ticket_id) so the run can be read.',
      evidence: [],
      proposals: [],
      confidence: 0.3,
    };
  }
  const evidence = (await call('payroll.run_evidence', { payroll_run_id: runId })) as unknown as RunEvidence;
  const result = diagnoseRun(evidence);
  const diagnoses = ctx.ticket_id
    ? result.diagnoses.filter((d) => d.ticket_id === ctx.ticket_id || d.ticket_id === null)
    : result.diagnoses;
  const lines = diagnoses.map((d) => `- [${d.code}] ${d.explanation} Fix: ${d.fix}.`);
  const proposals: Proposal[] = result.ticket
    ? [
        {
          tool: 'support.create_ticket',
          arguments: { ...result.ticket },
          summary: `Create support ticket "${result.ticket.subject}" (${result.ticket.priority})`,
        },
      ]
    : [];
  // A quantity ten times too large that fits the driver's median once divided by ten reads as a
  // misplaced decimal point: drafted as a correction (the rerun then pays it), never applied here.
  for (const line of evidence.lines) {
    if (!line.flags.includes('QUANTITY_OUTLIER') || !line.ticket_id || !line.quantity || !line.driver_median) continue;
    if (ctx.ticket_id && line.ticket_id !== ctx.ticket_id) continue;
    const tenth = new Decimal(line.quantity).dividedBy(10);
    const median = new Decimal(line.driver_median);
    if (tenth.greaterThan(median.times(evidence.thresholds.outlier_multiple)) || tenth.lessThan(median.dividedBy(3)))
      continue;
    proposals.push({
      tool: 'payroll.correct_ticket',
      arguments: {
        ticket_id: line.ticket_id,
        field: line.unit,
        value: tenth.toFixed(3),
        expected_current: line.quantity,
      },
      summary: `Set ${line.unit} of ticket ${line.ticket_number} from ${line.quantity} to ${tenth.toFixed(3)} (a misplaced decimal point?)`,
    });
  }
  if (evidence.run.status === 'failed') {
    const period = { pay_period_start: evidence.run.pay_period_start, pay_period_end: evidence.run.pay_period_end };
    proposals.push({
      tool: 'payroll.rerun_period',
      arguments: { ...period, replace: true },
      summary: `Run payroll ${period.pay_period_start}..${period.pay_period_end} again (replace)`,
    });
  }
  return {
    answer: [result.summary, ...lines].join('\n'),
    evidence: diagnoses,
    proposals,
    confidence: 0.95,
  };
}

async function ops(input: AskInput, call: ToolCaller): Promise<AgentAnswer> {
  const id = input.context?.incident_id;
  const { incidents } = (await call('incidents.org_incidents', id ? { incident_id: id } : {})) as {
    incidents: {
      id: string;
      title: string;
      severity: string;
      status: string;
      affected_features: string[];
      started_at: string;
      updates: { message: string }[];
    }[];
  };
  if (!incidents.length) {
    return {
      answer: id ? `Incident ${id} does not affect your org.` : 'No incident affects your org right now.',
      evidence: [],
      proposals: [],
      confidence: 0.9,
    };
  }
  const lines = incidents.map((i) => {
    const latest = i.updates.length ? ` Latest: ${i.updates[i.updates.length - 1].message}` : '';
    return `- ${i.title} (${i.severity}, ${i.status}) since ${i.started_at}, affecting ${i.affected_features.join(', ') || 'your service'}.${latest}`;
  });
  const open = incidents.filter((i) => !['resolved', 'closed', 'cancelled'].includes(i.status)).length;
  return {
    answer: [`${open} open incident(s) affect your org; ${incidents.length} shown.`, ...lines].join('\n'),
    evidence: incidents,
    proposals: [],
    confidence: 0.9,
  };
}

async function sessions(_input: AskInput, call: ToolCaller): Promise<AgentAnswer> {
  const s = (await call('sessions.call_center_state', {})) as Record<string, number | null>;
  const n = (k: string) => Number(s[k] ?? 0);
  const reasons: string[] = [];
  if (n('queued_calls') === 0) {
    return { answer: 'No call is waiting: the queue is empty.', evidence: [s], proposals: [], confidence: 0.9 };
  }
  if (n('logged_in') === 0) reasons.push('no agent is logged in');
  if (n('not_available') > 0) reasons.push(`${n('not_available')} logged-in agent(s) are not in status available`);
  if (n('stale_heartbeat') > 0) {
    reasons.push(
      `${n('stale_heartbeat')} session(s) sent no heartbeat for more than ${n('routable_heartbeat_seconds')} s (stale)`,
    );
  }
  if (n('device_disconnected') > 0)
    reasons.push(`${n('device_disconnected')} session(s) report their device disconnected`);
  if (n('in_wrap_up') > 0) reasons.push(`${n('in_wrap_up')} agent(s) are in wrap-up`);
  if (n('in_offer_cooldown') > 0)
    reasons.push(`${n('in_offer_cooldown')} agent(s) are in cooldown after a missed offer`);
  if (n('at_capacity') > 0) reasons.push(`${n('at_capacity')} agent(s) are at their call capacity`);
  const head = `${n('queued_calls')} call(s) are queued, the oldest for ${Math.round(n('oldest_queued_seconds'))} s; ${n('routable')} agent(s) are routable with room for ${n('free_capacity')} more call(s).`;
  const verdict =
    n('routable') === 0
      ? `Calls wait because no agent is routable: ${reasons.join('; ') || 'no session meets the routing rules'}.`
      : 'A routable agent has room, so the calls should be offered within a second; if they stay queued, the session sweeper reports it as a stuck state.';
  return { answer: `${head} ${verdict}`, evidence: [s], proposals: [], confidence: 0.85 };
}

function statusMeaning(code: string): string {
  if (code === '410') return '410: the receiver said the endpoint is gone, so it was disabled';
  if (/^4\d\d$/.test(code))
    return `${code}: the receiver refused the request (check its URL, auth and signature secret)`;
  if (/^5\d\d$/.test(code)) return `${code}: the receiver failed (its own error; deliveries are retried)`;
  if (/^2\d\d$/.test(code)) return `${code}: delivered`;
  return `${code}: no HTTP answer (connection, timeout or a refused address)`;
}

async function webhooks(input: AskInput, call: ToolCaller): Promise<AgentAnswer> {
  const id = input.context?.endpoint_id;
  const { endpoints } = (await call('webhooks.endpoint_health', id ? { endpoint_id: id } : {})) as {
    endpoints: Record<string, unknown>[];
  };
  if (!endpoints.length) {
    return {
      answer: id ? `No webhook endpoint ${id} in your org.` : 'Your org has no webhook endpoint.',
      evidence: [],
      proposals: [],
      confidence: 0.9,
    };
  }
  const lines = endpoints.map((e) => {
    const attempts = e.attempts_24h as Record<string, number>;
    const codes = Object.entries(attempts)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${count}× ${statusMeaning(code)}`);
    const state = e.enabled ? `breaker ${String(e.breaker_state)}` : `disabled (${String(e.disabled_reason)})`;
    const failing = e.failing_since
      ? `failing since ${new Date(e.failing_since as string).toISOString()}`
      : 'not failing';
    const retry = Number(e.waiting_retry)
      ? `; ${String(e.waiting_retry)} deliveries wait for a retry, next at ${new Date(e.next_attempt_at as string).toISOString()}`
      : '';
    return `- ${String(e.url)}: ${state}, ${failing}; last 24 h: ${codes.join(', ') || 'no attempts'}${retry}.`;
  });
  return { answer: lines.join('\n'), evidence: endpoints, proposals: [], confidence: 0.85 };
}

/** The rules provider: every agent answers from its tools' evidence, deterministically. */
export const RULES_AGENTS: Record<Exclude<AgentKey, 'triage'>, (i: AskInput, c: ToolCaller) => Promise<AgentAnswer>> = {
  resolution,
  ops,
  sessions,
  webhooks,
};
