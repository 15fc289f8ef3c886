import { routeByRules } from './intent-router';
import { missingScopes } from './permission-gate';

const ID = '00000000-0000-4000-8000-000000000001';

describe('routeByRules', () => {
  it('lets an id decide before any keyword', () => {
    expect(routeByRules({ message: 'webhook calls incident', context: { payroll_run_id: ID } })).toEqual({
      agent: 'resolution',
      rule: 'context.payroll_run_id',
      confidence: 1,
    });
    expect(routeByRules({ message: 'payroll', context: { endpoint_id: ID } }).agent).toBe('webhooks');
    expect(routeByRules({ message: 'x', context: { call_id: ID } }).agent).toBe('sessions');
    expect(routeByRules({ message: 'x', context: { incident_id: ID } }).agent).toBe('ops');
  });

  it('routes keywords with less confidence, several areas with even less, none to nobody', () => {
    expect(routeByRules({ message: 'Why was my driver held?' })).toMatchObject({
      agent: 'resolution',
      confidence: 0.8,
    });
    expect(routeByRules({ message: 'deliveries fail' })).toMatchObject({ agent: 'webhooks' });
    expect(routeByRules({ message: 'payroll webhook' })).toMatchObject({
      agent: 'resolution',
      rule: 'keywords:resolution+webhooks',
      confidence: 0.5,
    });
    expect(routeByRules({ message: 'good morning' })).toEqual({ agent: null, rule: 'no rule matched', confidence: 0 });
  });
});

describe('missingScopes (caller ∩ agent ∩ tool)', () => {
  it('names what the caller or the agent lacks', () => {
    expect(missingScopes(['payroll:read'], ['payroll:read'], ['payroll:read'])).toEqual([]);
    expect(missingScopes([], ['payroll:read'], ['payroll:read'])).toEqual(['payroll:read']);
    expect(missingScopes(new Set(['payroll:read'] as const), [], ['payroll:read'])).toEqual(['payroll:read']);
    expect(missingScopes(['agents:write'], ['agents:write'], [])).toEqual([]);
  });
});
