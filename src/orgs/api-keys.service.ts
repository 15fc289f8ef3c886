import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditService } from '../../libs/audit';
import {
  ApiKey,
  auditActor,
  CredentialResolver,
  generateApiKey,
  Principal,
  PlatformApiKey,
  Scope,
} from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { newestFirstPage, ProblemException } from '../../libs/http';
import { ApiKeyDto, ApiKeyPageDto, CreatedApiKeyDto, CreateApiKeyDto } from './dto/api-key.dto';

export function toApiKeyDto(k: ApiKey): ApiKeyDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    last4: k.last4,
    scopes: k.scopes,
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
  };
}

interface NewKey {
  orgId: string;
  name: string;
  scopes: string[];
  createdBy: string;
  expiresAt?: Date | null;
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
    private readonly credentials: CredentialResolver,
  ) {}

  /** Inserts a key with the given manager (tenant or system transaction); returns it with the secret. */
  async insert(manager: EntityManager, input: NewKey): Promise<CreatedApiKeyDto> {
    const generated = generateApiKey();
    const row = manager.create(ApiKey, {
      orgId: input.orgId,
      name: input.name,
      prefix: generated.prefix,
      last4: generated.last4,
      keyHash: generated.hash,
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? null,
      createdBy: input.createdBy,
    });
    const saved = await manager.save(ApiKey, row);
    return { ...toApiKeyDto(saved), api_key: generated.key };
  }

  async create(principal: Principal, dto: CreateApiKeyDto, requestId?: string): Promise<CreatedApiKeyDto> {
    const notHeld = dto.scopes.filter((s) => !principal.scopes.has(s as Scope));
    if (notHeld.length) throw new ForbiddenException(`You cannot grant scopes you do not hold: ${notHeld.join(', ')}.`);
    const expiresAt = dto.expires_at ? new Date(dto.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new ProblemException(400, 'expires_at must be in the future.', {
        errors: [{ field: 'expires_at', message: 'must be in the future' }],
      });
    }
    const created = await this.insert(this.tenant.manager, {
      orgId: this.tenant.orgId,
      name: dto.name,
      scopes: dto.scopes,
      createdBy: `${principal.kind}:${principal.subject}`,
      expiresAt,
    });
    await this.audit.record({
      action: 'api_key.created',
      ...auditActor(principal),
      targetType: 'api_key',
      targetId: created.id,
      data: { name: created.name, scopes: created.scopes, expires_at: created.expires_at },
      requestId,
    });
    return created;
  }

  async list(limit = 50, cursor?: string): Promise<ApiKeyPageDto> {
    const qb = this.tenant.repo(ApiKey).createQueryBuilder('k');
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return {
      items: page.map(toApiKeyDto),
      next_cursor,
    };
  }

  /** Soft revoke; stops working at once here and within API_KEY_CACHE_TTL_MS elsewhere. */
  async revoke(principal: Principal, id: string, requestId?: string): Promise<void> {
    const repo = this.tenant.repo(ApiKey);
    const key = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!key) throw new NotFoundException('No such API key.');
    // As with granting: a credential cannot take away more power than it holds.
    const notHeld = key.scopes.filter((s) => !principal.scopes.has(s as Scope));
    if (notHeld.length) {
      throw new ForbiddenException(`You cannot revoke a key with scopes you do not hold: ${notHeld.join(', ')}.`);
    }
    if (key.revokedAt) return;
    await repo.update({ id }, { revokedAt: () => 'now()' });
    await this.audit.record({
      action: 'api_key.revoked',
      ...auditActor(principal),
      targetType: 'api_key',
      targetId: id,
      data: { name: key.name },
      requestId,
    });
    this.credentials.forgetKey(id);
    this.tenant.onCommit(() => this.credentials.forgetKey(id));
  }

  async insertPlatformKey(manager: EntityManager, name: string, createdBy: string): Promise<string> {
    const generated = generateApiKey();
    await manager.insert(PlatformApiKey, {
      name,
      prefix: generated.prefix,
      last4: generated.last4,
      keyHash: generated.hash,
      createdBy,
    });
    return generated.key;
  }
}
