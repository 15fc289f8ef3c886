/** Every event type an outbound webhook endpoint can subscribe to (or `["*"]` for all). */
export const WEBHOOK_EVENT_TYPES = [
  'payroll.run.completed',
  'payroll.run.failed',
  'session.status_changed',
  'call.assigned',
  'call.completed',
  'webhook.endpoint.disabled',
  'webhook.test',
  'incident.opened',
  'incident.updated',
  'incident.resolved',
  'support_ticket.created',
  'agent.escalated',
  'workflow.completed',
  'workflow.failed',
  'workflow.escalated',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Subscribes an endpoint to every event type, present and future. */
export const ALL_EVENT_TYPES = '*';

export const WEBHOOK_EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  'payroll.run.completed': 'A payroll run finished and its statements are available.',
  'payroll.run.failed': 'A payroll run failed; the payload carries the reason.',
  'session.status_changed': "A call-center agent's session changed status (e.g. available, busy, offline).",
  'call.assigned': 'A call was assigned to an agent.',
  'call.completed': 'A call ended.',
  'webhook.endpoint.disabled': 'A webhook endpoint was disabled after failing for too long.',
  'webhook.test': 'A test event sent on request (POST /api/webhooks/endpoints/{id}/test) to one endpoint only.',
  'incident.opened': 'An incident that affects your org was opened (title, severity, affected features).',
  'incident.updated': 'An incident that affects your org changed (status or severity).',
  'incident.resolved': 'An incident that affected your org was resolved.',
  'support_ticket.created':
    'A support ticket drafted by an assistant agent was approved and created (subject, priority, run and ticket references).',
  'agent.escalated':
    'An assistant agent handed a question or an action to a person (no agent, low confidence, a denial, an expired approval).',
  'workflow.completed': 'A multi-agent workflow finished with a result.',
  'workflow.failed': 'A multi-agent workflow failed (a step kept failing, or an approved action failed).',
  'workflow.escalated': 'A multi-agent workflow ended without agreement or verification and needs a person.',
};

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** True when an endpoint subscribed to `endpointEventTypes` should receive an event of `type`. */
export function matchesEventType(endpointEventTypes: readonly string[], type: string): boolean {
  return endpointEventTypes.includes(ALL_EVENT_TYPES) || endpointEventTypes.includes(type);
}
