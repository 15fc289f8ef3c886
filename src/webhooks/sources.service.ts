import { Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IsNull } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { auditActor } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { SecretBox } from '../../libs/crypto';
import { DatabaseService, TenantContext } from '../../libs/database';
import { newestFirstPage, PageQueryDto, ProblemException } from '../../libs/http';
import type { CreatedSourceDto, CreateSourceDto, SourceDto, SourcePageDto } from './dto/source.dto';
import { WebhookSource } from './entities/webhook-source.entity';
import { generateWebhookSecret } from './webhook-secrets';

/**
 * Associated data of a source's sealed secret: the ciphertext only opens for this org and this
 * source row. Its own label (not the endpoints' one), so a ciphertext cannot move between
 * `webhook_sources` and `webhook_endpoints` either.
 */
export function sourceSecretAad(orgId: string, sourceId: string): string {
  return `${orgId}:webhook_source:${sourceId}`;
}

export function inboundPath(sourceId: string): string {
  return `/api/webhooks/inbound/${sourceId}`;
}

export function toSourceDto(s: WebhookSource): SourceDto {
  return {
    id: s.id,
    provider: s.provider,
    name: s.name,
    url: inboundPath(s.id),
    public_url: s.publicUrl,
    created_at: s.createdAt.toISOString(),
  };
}

/** What the inbound route needs to verify a request, before it knows the org. */
export interface VerifiableSource {
  id: string;
  orgId: string;
  provider: 'twilio' | 'standard';
  publicUrl: string | null;
  secret: string;
}

function invalid(field: string, message: string): ProblemException {
  return new ProblemException(400, `The request is invalid: ${field}.`, { errors: [{ field, message }] });
}

/** Inbound webhook sources: who may call /api/webhooks/inbound/:id and how it is verified. */
@Injectable()
export class SourcesService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, dto: CreateSourceDto, requestId?: string): Promise<CreatedSourceDto> {
    if (dto.provider === 'standard' && dto.auth_token !== undefined) {
      throw invalid('auth_token', 'auth_token is for twilio sources only; standard sources get a generated secret');
    }
    if (dto.provider === 'standard' && dto.public_url !== undefined) {
      throw invalid('public_url', 'public_url is for twilio sources only');
    }
    const orgId = this.tenant.orgId;
    const id = randomUUID();
    const secret = dto.provider === 'standard' ? generateWebhookSecret() : dto.auth_token!;
    const repo = this.tenant.repo(WebhookSource);
    await repo.insert({
      id,
      orgId,
      provider: dto.provider,
      name: dto.name,
      secretCiphertext: this.box.encrypt(secret, sourceSecretAad(orgId, id)),
      publicUrl: dto.public_url ?? null,
    });
    const source = await repo.findOneByOrFail({ id });
    await this.audit.record({
      action: 'webhooks.source.created',
      ...auditActor(principal),
      targetType: 'webhook_source',
      targetId: id,
      data: { provider: source.provider, name: source.name, public_url: source.publicUrl },
      requestId,
    });
    return { ...toSourceDto(source), ...(dto.provider === 'standard' ? { secret } : {}) };
  }

  /** Unknown, deleted and other orgs' sources (hidden by row-level security) are the same 404. */
  async get(id: string): Promise<SourceDto> {
    return toSourceDto(await this.find(id));
  }

  async list(query: PageQueryDto): Promise<SourcePageDto> {
    const limit = query.limit ?? 50;
    const qb = this.tenant
      .repo(WebhookSource)
      .createQueryBuilder('s')
      .where('s.org_id = :org AND s.deleted_at IS NULL', { org: this.tenant.orgId });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor: query.cursor });
    return {
      items: page.map(toSourceDto),
      next_cursor,
    };
  }

  /** Soft delete: the row stays for the dedup table's foreign key; inbound calls then get 401. */
  async remove(principal: Principal, id: string, requestId?: string): Promise<void> {
    const source = await this.find(id);
    await this.tenant.repo(WebhookSource).update({ id, deletedAt: IsNull() }, { deletedAt: () => 'now()' });
    await this.audit.record({
      action: 'webhooks.source.deleted',
      ...auditActor(principal),
      targetType: 'webhook_source',
      targetId: id,
      data: { provider: source.provider, name: source.name },
      requestId,
    });
  }

  /**
   * Cross-tenant on purpose (system connection): an inbound request names only the source, and
   * the org is known once the source is. Returns undefined for unknown and deleted sources and
   * for a secret that no longer opens (never a reason: the caller answers all of them alike).
   */
  async findForVerification(id: string): Promise<VerifiableSource | undefined> {
    await this.db.whenConnected();
    const source = await this.db.system.getRepository(WebhookSource).findOneBy({ id, deletedAt: IsNull() });
    if (!source) return undefined;
    try {
      const secret = this.box.decrypt(source.secretCiphertext, sourceSecretAad(source.orgId, source.id));
      return { id: source.id, orgId: source.orgId, provider: source.provider, publicUrl: source.publicUrl, secret };
    } catch {
      return undefined;
    }
  }

  private async find(id: string): Promise<WebhookSource> {
    const source = await this.tenant.repo(WebhookSource).findOneBy({ id, deletedAt: IsNull() });
    if (!source) throw new NotFoundException('No such webhook source.');
    return source;
  }
}
