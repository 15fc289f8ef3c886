import type { Scope } from '../../../libs/auth';

export type ToolKind = 'read' | 'draft' | 'write';

/** What a tool declares: the MCP-style annotations, its schemas, its scopes and approval policy. */
export interface ToolDefinition {
  name: string;
  version: number;
  description: string;
  kind: ToolKind;
  scopes: Scope[];
  annotations: { read_only: boolean; destructive: boolean; idempotent: boolean };
  /** `required`: runs only from an approval bound to its frozen arguments and this version. */
  approval: 'none' | 'required';
  timeout_ms: number;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown>;
}

const uuid = { type: 'string', format: 'uuid' };
const READ = { read_only: true, destructive: false, idempotent: true };

export const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'payroll.run_evidence',
    version: 1,
    description: "A payroll run's status, events, flagged lines with their evidence, and deduction shortfalls.",
    kind: 'read',
    scopes: ['payroll:read'],
    annotations: READ,
    approval: 'none',
    timeout_ms: 10_000,
    input_schema: {
      type: 'object',
      required: ['payroll_run_id'],
      properties: { payroll_run_id: uuid },
      additionalProperties: false,
    },
    output_schema: {
      type: 'object',
      required: ['run', 'events', 'lines', 'flagged_lines', 'shortfalls', 'thresholds'],
      properties: {
        run: { type: 'object' },
        events: { type: 'array' },
        lines: { type: 'array' },
        flagged_lines: { type: 'integer' },
        shortfalls: { type: 'array' },
        thresholds: { type: 'object' },
      },
    },
  },
  {
    name: 'payroll.ticket_run',
    version: 1,
    description: 'The newest payroll run that judged a ticket (null when no run has).',
    kind: 'read',
    scopes: ['payroll:read'],
    annotations: READ,
    approval: 'none',
    timeout_ms: 5_000,
    input_schema: {
      type: 'object',
      required: ['ticket_id'],
      properties: { ticket_id: uuid },
      additionalProperties: false,
    },
    output_schema: { type: 'object', properties: { payroll_run_id: { type: ['string', 'null'], format: 'uuid' } } },
  },
  {
    name: 'support.create_ticket',
    version: 1,
    description:
      'Creates a support ticket (subject, body, priority, run and ticket references) and emits support_ticket.created.',
    kind: 'write',
    scopes: ['agents:write'],
    annotations: { read_only: false, destructive: false, idempotent: true },
    approval: 'required',
    timeout_ms: 10_000,
    input_schema: {
      type: 'object',
      required: ['subject', 'body', 'priority', 'payroll_run_id', 'ticket_ids'],
      properties: {
        subject: { type: 'string', maxLength: 200 },
        body: { type: 'string', maxLength: 20000 },
        priority: { enum: ['low', 'normal', 'high', 'urgent'] },
        payroll_run_id: uuid,
        ticket_ids: { type: 'array', items: uuid, maxItems: 1000 },
      },
      additionalProperties: false,
    },
    output_schema: {
      type: 'object',
      required: ['support_ticket_id'],
      properties: { support_ticket_id: uuid },
    },
  },
  {
    name: 'payroll.rerun_period',
    version: 1,
    description:
      'Enqueues a payroll run of a period with replace (it supersedes the period’s finished run); once per approval.',
    kind: 'write',
    scopes: ['payroll:run'],
    annotations: { read_only: false, destructive: false, idempotent: true },
    approval: 'required',
    timeout_ms: 10_000,
    input_schema: {
      type: 'object',
      required: ['pay_period_start', 'pay_period_end', 'replace'],
      properties: {
        pay_period_start: { type: 'string', format: 'date' },
        pay_period_end: { type: 'string', format: 'date' },
        replace: { const: true },
      },
      additionalProperties: false,
    },
    output_schema: {
      type: 'object',
      required: ['payroll_run_id', 'status'],
      properties: { payroll_run_id: uuid, status: { type: 'string' } },
    },
  },
  {
    name: 'payroll.correct_ticket',
    version: 1,
    description:
      'Sets one quantity of a ticket (hours, tons, yards or loads), only if it still holds the value the draft saw.',
    kind: 'write',
    scopes: ['payroll:write'],
    annotations: { read_only: false, destructive: false, idempotent: true },
    approval: 'required',
    timeout_ms: 5_000,
    input_schema: {
      type: 'object',
      required: ['ticket_id', 'field', 'value', 'expected_current'],
      properties: {
        ticket_id: uuid,
        field: { enum: ['hours', 'tons', 'yards', 'loads'] },
        value: { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,3})?$' },
        expected_current: { type: ['string', 'null'] },
      },
      additionalProperties: false,
    },
    output_schema: {
      type: 'object',
      required: ['ticket_id', 'field', 'from', 'to'],
      properties: {
        ticket_id: uuid,
        ticket_number: { type: 'string' },
        field: { type: 'string' },
        from: { type: ['string', 'null'] },
        to: { type: 'string' },
      },
    },
  },
  {
    name: 'incidents.org_incidents',
    version: 1,
    description: 'The incidents affecting your org (customer view): open ones first, or one by id.',
    kind: 'read',
    scopes: ['incidents:read'],
    annotations: READ,
    approval: 'none',
    timeout_ms: 5_000,
    input_schema: { type: 'object', properties: { incident_id: uuid }, additionalProperties: false },
    output_schema: { type: 'object', required: ['incidents'], properties: { incidents: { type: 'array' } } },
  },
  {
    name: 'sessions.call_center_state',
    version: 1,
    description: 'Queued calls, routable agents, free capacity, stale or disconnected devices, wrap-up and cooldown.',
    kind: 'read',
    scopes: ['sessions:read'],
    annotations: READ,
    approval: 'none',
    timeout_ms: 5_000,
    input_schema: { type: 'object', properties: {}, additionalProperties: false },
    output_schema: { type: 'object', required: ['queued_calls', 'routable'] },
  },
  {
    name: 'webhooks.endpoint_health',
    version: 1,
    description: "Breaker, failing since, last success, the last day's attempts by status, and retries waiting.",
    kind: 'read',
    scopes: ['webhooks:read'],
    annotations: READ,
    approval: 'none',
    timeout_ms: 5_000,
    input_schema: { type: 'object', properties: { endpoint_id: uuid }, additionalProperties: false },
    output_schema: { type: 'object', required: ['endpoints'], properties: { endpoints: { type: 'array' } } },
  },
];

export function toolByName(name: string): ToolDefinition | undefined {
  return TOOLS.find((t) => t.name === name);
}
