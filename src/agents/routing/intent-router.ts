import type { AgentKey } from '../registry/agent-registry';

/** What a question names: its words and the ids that came with it. */
export interface AskInput {
  message: string;
  context?: {
    payroll_run_id?: string;
    ticket_id?: string;
    incident_id?: string;
    call_id?: string;
    endpoint_id?: string;
  };
}

export interface RouteDecision {
  agent: Exclude<AgentKey, 'triage'> | null;
  /** The rule that decided, for the audit log and the conversation. */
  rule: string;
  /** How sure the rules are: an id present is certain, keywords alone less so. */
  confidence: number;
}

/** Ids decide first (they say what the question is about), then keywords, in this order. */
const ID_RULES: { field: keyof NonNullable<AskInput['context']>; agent: Exclude<AgentKey, 'triage'> }[] = [
  { field: 'payroll_run_id', agent: 'resolution' },
  { field: 'ticket_id', agent: 'resolution' },
  { field: 'incident_id', agent: 'ops' },
  { field: 'call_id', agent: 'sessions' },
  { field: 'endpoint_id', agent: 'webhooks' },
];

const KEYWORD_RULES: { agent: Exclude<AgentKey, 'triage'>; words: RegExp }[] = [
  { agent: 'resolution', words: /\b(payroll|pay ?run|ticket|tickets|driver|statement|deduction|flag|flagged|held)\b/i },
  { agent: 'webhooks', words: /\b(webhooks?|endpoints?|deliver(y|ies)|breaker|signature|receiver)\b/i },
  {
    agent: 'sessions',
    words: /\b(calls?|queued|queue|agents? (?:are )?(?:offline|busy|available)|routing|wrap[- ]?up|heartbeat)\b/i,
  },
  { agent: 'ops', words: /\b(incidents?|outage|degraded|down|slow|status page|sev[1-4])\b/i },
];

/** Deterministic routing: the same question always goes to the same agent (or to a human). */
export function routeByRules(input: AskInput): RouteDecision {
  for (const r of ID_RULES) {
    if (input.context?.[r.field]) return { agent: r.agent, rule: `context.${r.field}`, confidence: 1 };
  }
  const hits = KEYWORD_RULES.filter((r) => r.words.test(input.message));
  if (hits.length === 1) return { agent: hits[0].agent, rule: `keywords:${hits[0].agent}`, confidence: 0.8 };
  if (hits.length > 1) {
    // Several areas named: the first in priority order, with less confidence.
    return { agent: hits[0].agent, rule: `keywords:${hits.map((h) => h.agent).join('+')}`, confidence: 0.5 };
  }
  return { agent: null, rule: 'no rule matched', confidence: 0 };
}
