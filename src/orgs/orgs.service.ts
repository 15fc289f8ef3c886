import { Injectable, NotFoundException } from '@nestjs/common';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditService } from '../../libs/audit';
import { ROLES } from '../../libs/auth';
import { DatabaseService, TenantContext } from '../../libs/database';
import { ApiKeysService } from './api-keys.service';
import { OrgDto } from './dto/org.dto';
import { Org, Plan } from './org.entity';

export interface Actor {
  actorType: 'user' | 'api_key' | 'platform_key' | 'system';
  actorId: string;
}

export interface OrgWithKey {
  org_id: string;
  api_key: string;
}

export function toOrgDto(o: Org): OrgDto {
  return { id: o.id, name: o.name, plan: o.plan, created_at: o.createdAt.toISOString() };
}

@Injectable()
export class OrgsService {
  constructor(
    private readonly db: DatabaseService,
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
    private readonly keys: ApiKeysService,
  ) {}

  /**
   * Creates an org (and, when asked, its first owner key). Creating an org crosses tenants by
   * nature, so it runs on the system connection, in one transaction with its audit events.
   */
  async create(name: string, plan: Plan, actor: Actor, options: { ownerKey?: boolean; requestId?: string } = {}) {
    await this.db.whenConnected();
    return this.db.system.transaction(async (manager) => {
      const org = await manager.save(Org, manager.create(Org, { name, plan }));
      await this.audit.record(
        {
          action: 'org.created',
          ...actor,
          targetType: 'org',
          targetId: org.id,
          data: { name, plan },
          requestId: options.requestId,
        },
        manager,
        org.id,
      );
      let apiKey: string | undefined;
      if (options.ownerKey) {
        const key = await this.keys.insert(manager, {
          orgId: org.id,
          name: 'owner key',
          scopes: [...ROLES.owner],
          createdBy: `${actor.actorType}:${actor.actorId}`,
        });
        apiKey = key.api_key;
        await this.audit.record(
          {
            action: 'api_key.created',
            ...actor,
            targetType: 'api_key',
            targetId: key.id,
            data: { name: key.name, scopes: key.scopes },
          },
          manager,
          org.id,
        );
      }
      return { org, apiKey };
    });
  }

  /** The caller's own org (row-level security shows no other). */
  async me(): Promise<OrgDto> {
    const org = await this.tenant.repo(Org).findOneBy({ id: this.tenant.orgId });
    if (!org) throw new NotFoundException('The org of these credentials no longer exists.');
    return toOrgDto(org);
  }

  /**
   * On an embedded database without any org yet, creates a demo org and writes its owner key to
   * DATA_DIR/demo-credentials.json; later starts read the file back.
   */
  /**
   * The demo org of an embedded database: created (with an owner key) on the first start of an
   * empty database, its credentials written once to DATA_DIR/demo-credentials.json (0600).
   * `created` says whether this call made it: only then is the key shown.
   */
  async ensureDemoOrg(dataDir: string): Promise<(OrgWithKey & { created: boolean; file: string }) | undefined> {
    const file = join(resolve(dataDir), 'demo-credentials.json');
    if (existsSync(file)) return { ...(JSON.parse(readFileSync(file, 'utf8')) as OrgWithKey), created: false, file };
    await this.db.whenConnected();
    const [{ n }] = (await this.db.system.query('SELECT count(*)::int AS n FROM orgs')) as { n: number }[];
    if (n > 0) return undefined;
    const { org, apiKey } = await this.create(
      'Demo Org',
      'pro',
      { actorType: 'system', actorId: 'bootstrap' },
      { ownerKey: true },
    );
    const creds: OrgWithKey = { org_id: org.id, api_key: apiKey! };
    writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
    return { ...creds, created: true, file };
  }
}
