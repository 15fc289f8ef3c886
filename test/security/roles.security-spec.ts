import { sign } from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { resolveScopes, ROLE_NAMES } from '../../libs/auth';
import type { Role } from '../../libs/auth';
import { sampleValue } from './support/hostile-values';
import { fillPath, Op } from './support/openapi';
import { createSecurityWorld, SecurityWorld } from './support/world';

/**
 * Every operation called with a token of each role: allowed exactly when the role's scopes
 * (libs/auth/scopes.ts) cover what the operation documents, refused with 403 otherwise. The
 * agent role may still be refused a route outside its own call agent (`not-your-call-agent`).
 */
describe('roles against every operation', () => {
  let world: SecurityWorld;

  beforeAll(async () => {
    world = await createSecurityWorld();
  }, 600_000);
  afterAll(async () => {
    await world?.close();
  });

  const allowedFor = (role: Role, op: Op) => {
    const scopes = resolveScopes([role], []);
    const required = op.op['x-required-scopes'] ?? [];
    const anyOf = op.op['x-any-of-scopes'] ?? [];
    return (
      required.every((s) => scopes.has(s as never)) && (!anyOf.length || anyOf.some((s) => scopes.has(s as never)))
    );
  };

  it('each role is let through exactly by the scope table', async () => {
    const mismatches: string[] = [];
    const scopedOps = world.ops.filter((op) => !op.isPublic);
    for (const role of ROLE_NAMES) {
      const token = sign(
        { sub: `role-${role}`, org_id: world.a.id, roles: [role] },
        world.t.config.get('JWT_SECRET')!,
        {
          algorithm: 'HS256',
          expiresIn: 600,
        },
      );
      for (const op of scopedOps) {
        const http = world.t.http();
        const req = http[op.method](fillPath(op.path, () => randomUUID())).set('Authorization', `Bearer ${token}`);
        const res = op.jsonBody && op.method !== 'get' ? await req.send(sampleValue(op.jsonBody) as object) : await req;
        const allowed = allowedFor(role, op);
        const boundRefusal = role === 'agent' && res.status === 403 && /not-your-call-agent/.test(res.body.type);
        if (allowed && (res.status === 401 || (res.status === 403 && !boundRefusal))) {
          mismatches.push(`${role} ${op.name}: allowed by the table, got ${res.status} ${res.body.detail}`);
        }
        if (!allowed && res.status !== 403)
          mismatches.push(`${role} ${op.name}: refused by the table, got ${res.status}`);
      }
    }
    process.stdout.write(
      `roles: ${ROLE_NAMES.length} roles × ${scopedOps.length} operations, ${mismatches.length} mismatches with the scope table\n`,
    );
    expect(scopedOps.length).toBeGreaterThan(40);
    expect(mismatches).toEqual([]);
  });
});
