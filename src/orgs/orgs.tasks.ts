import { Injectable } from '@nestjs/common';
import { sign } from 'jsonwebtoken';
import { ROLE_NAMES, Role } from '../../libs/auth';
import { AppConfig } from '../../libs/config';
import { DatabaseService } from '../../libs/database';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskFlags, TaskResult } from '../../libs/tasks';
import { ApiKeysService } from './api-keys.service';
import { PLANS, Plan } from './org.entity';
import { OrgsService } from './orgs.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fail(message: string): TaskResult {
  return { ok: false, output: { error: message } };
}

@Injectable()
export class OrgsTasks {
  constructor(
    private readonly orgs: OrgsService,
    private readonly keys: ApiKeysService,
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
  ) {}

  @MaintenanceTask('create-org', 'Create an org and its owner key: --name <name> [--plan free|pro|enterprise].')
  async createOrg(flags: TaskFlags): Promise<TaskResult> {
    const name = flags.name;
    const plan = (flags.plan ?? 'free') as Plan;
    if (typeof name !== 'string' || !name.trim()) return fail('--name <name> is required');
    if (!PLANS.includes(plan)) return fail(`--plan must be one of ${PLANS.join(', ')}`);
    await this.db.whenConnected();
    const { org, apiKey } = await this.orgs.create(
      name.trim(),
      plan,
      { actorType: 'system', actorId: 'task:create-org' },
      { ownerKey: true },
    );
    return { ok: true, output: { org_id: org.id, api_key: apiKey } };
  }

  @MaintenanceTask('create-platform-key', 'Create a platform-admin API key: --name <name>.')
  async createPlatformKey(flags: TaskFlags): Promise<TaskResult> {
    if (typeof flags.name !== 'string' || !flags.name.trim()) return fail('--name <name> is required');
    await this.db.whenConnected();
    const key = await this.db.system.transaction((m) =>
      this.keys.insertPlatformKey(m, String(flags.name).trim(), 'task:create-platform-key'),
    );
    return { ok: true, output: { api_key: key } };
  }

  @MaintenanceTask(
    'issue-token',
    'Print a development HS256 token: --org <id> --role <role> [--ttl 3600] [--sub <subject>].',
  )
  async issueToken(flags: TaskFlags): Promise<TaskResult> {
    const secret = this.config.get('JWT_SECRET');
    if (this.config.get('JWT_JWKS_URL') || !secret)
      return fail('issue-token signs with JWT_SECRET; this server verifies tokens from JWT_JWKS_URL');
    const org = String(flags.org ?? '');
    const role = String(flags.role ?? '') as Role;
    const ttl = Number(flags.ttl ?? 3600);
    if (!UUID.test(org)) return fail('--org <org id> is required');
    if (!ROLE_NAMES.includes(role)) return fail(`--role must be one of ${ROLE_NAMES.join(', ')}`);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) return fail('--ttl must be 1..86400 seconds');
    await this.db.whenConnected();
    const exists = (await this.db.system.query('SELECT 1 FROM orgs WHERE id = $1', [org])) as unknown[];
    if (!exists.length) return fail(`no org ${org}`);
    const sub = typeof flags.sub === 'string' ? flags.sub : `dev-user:${role}`;
    const issuer = this.config.get('JWT_ISSUER');
    const audience = this.config.get('JWT_AUDIENCE');
    const token = sign({ org_id: org, roles: [role] }, secret, {
      algorithm: 'HS256',
      expiresIn: ttl,
      subject: sub,
      ...(issuer ? { issuer } : {}),
      ...(audience ? { audience } : {}),
    });
    return { ok: true, output: token };
  }
}
