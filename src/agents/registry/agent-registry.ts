import type { Scope } from '../../../libs/auth';

/** An assistant agent (not a call-center agent): what it handles, may touch, and with which tools. */
export interface AgentDefinition {
  key: AgentKey;
  version: number;
  description: string;
  /** Intents the router sends to it. */
  intents: string[];
  /** The most this agent may ever do, whoever asks. */
  scopes: Scope[];
  tools: string[];
}

export const AGENT_KEYS = ['resolution', 'ops', 'sessions', 'webhooks', 'triage'] as const;
export type AgentKey = (typeof AGENT_KEYS)[number];

/** Code-defined, versioned: a change of behaviour is a new version. */
export const AGENTS: readonly AgentDefinition[] = [
  {
    key: 'resolution',
    version: 1,
    description:
      'Payroll runs and tickets: diagnoses each flagged line or failure with its evidence and a fix, and drafts a support ticket for approval.',
    intents: ['payroll.diagnose'],
    scopes: ['payroll:read', 'payroll:write', 'payroll:run', 'agents:write'],
    tools: [
      'payroll.run_evidence',
      'payroll.ticket_run',
      'support.create_ticket',
      'payroll.rerun_period',
      'payroll.correct_ticket',
    ],
  },
  {
    key: 'ops',
    version: 1,
    description: 'Explains the incidents that affect your org: what is affected, since when, and what is being done.',
    intents: ['incidents.explain'],
    scopes: ['incidents:read'],
    tools: ['incidents.org_incidents'],
  },
  {
    key: 'sessions',
    version: 1,
    description: 'Why calls are waiting: queued calls, routable agents, capacity, stale sessions.',
    intents: ['sessions.waiting_calls'],
    scopes: ['sessions:read'],
    tools: ['sessions.call_center_state'],
  },
  {
    key: 'webhooks',
    version: 1,
    description: 'Why a webhook endpoint fails: status codes, breaker, refusals, and the retry schedule.',
    intents: ['webhooks.endpoint_failing'],
    scopes: ['webhooks:read'],
    tools: ['webhooks.endpoint_health'],
  },
  {
    key: 'triage',
    version: 1,
    description: 'Routes a free-text question to the agent that handles it, or to a human when none does.',
    intents: ['triage'],
    scopes: [],
    tools: [],
  },
];

export function agentByKey(key: string): AgentDefinition | undefined {
  return AGENTS.find((a) => a.key === key);
}
