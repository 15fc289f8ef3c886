/**
 * Scopes are `resource:action`. Roles are named sets of scopes; API keys carry explicit scopes.
 * A caller may only grant (to a new key) scopes it holds itself.
 */
export const SCOPES = [
  'orgs:read',
  'keys:read',
  'keys:write',
  'audit:read',
  'payroll:read',
  'payroll:write',
  'payroll:run',
  'payroll:admin',
  'sessions:read',
  'sessions:write',
  'sessions:admin',
  'calls:write',
  'webhooks:read',
  'webhooks:write',
  'incidents:read',
  'incidents:write',
  'agents:read',
  'agents:write',
  'approvals:write',
  'platform:admin',
] as const;

export type Scope = (typeof SCOPES)[number];

const READ: Scope[] = [
  'orgs:read',
  'keys:read',
  'payroll:read',
  'sessions:read',
  'webhooks:read',
  'incidents:read',
  'agents:read',
];

export const ROLES = {
  owner: SCOPES.filter((s) => s !== 'platform:admin'),
  admin: SCOPES.filter((s) => s !== 'platform:admin'),
  operator: [
    ...READ,
    'payroll:write',
    'payroll:run',
    'sessions:write',
    'calls:write',
    'webhooks:write',
    'incidents:write',
    'agents:write',
    'approvals:write',
  ],
  viewer: READ,
  agent: ['sessions:read', 'sessions:write', 'calls:write'],
} as const satisfies Record<string, readonly Scope[]>;

export type Role = keyof typeof ROLES;

/** Roles that act for any call agent of their org (supervisors); `agent` alone acts for itself. */
export const SUPERVISING_ROLES: readonly Role[] = ['owner', 'admin', 'operator'];

/** Whether a token with these roles is bound to the call agent its `sub` names. */
export function isCallAgentBound(roles: readonly string[]): boolean {
  return roles.includes('agent') && !roles.some((r) => (SUPERVISING_ROLES as readonly string[]).includes(r));
}
export const ROLE_NAMES = Object.keys(ROLES) as Role[];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Scopes granted by roles plus explicit scopes; unknown names are ignored. */
export function resolveScopes(roles: readonly string[], scopes: readonly string[]): Set<Scope> {
  const out = new Set<Scope>();
  for (const role of roles) for (const s of ROLES[role as Role] ?? []) out.add(s);
  for (const s of scopes) if (isScope(s)) out.add(s);
  return out;
}
