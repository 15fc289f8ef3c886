import { Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IsNull } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { auditActor, Principal } from '../../libs/auth';
import { AppConfig } from '../../libs/config';
import { TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { newestFirstPage, ProblemException } from '../../libs/http';
import {
  CreatedEndpointDto,
  CreateEndpointDto,
  EndpointDto,
  EndpointPageDto,
  EndpointSecretDto,
  TestEventAcceptedDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import { effectiveBreakerState } from './endpoint-breaker';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { ALL_EVENT_TYPES } from './event-types';
import { checkTargetUrl } from './ssrf-guard';
import { generateWebhookSecret, WebhookSecrets } from './webhook-secrets';

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_TEST_MESSAGE = 'This is a test event from CalmOps.';

/** What signing needs of an endpoint row. */
export type SealedSecrets = Pick<
  WebhookEndpoint,
  'id' | 'orgId' | 'secretCiphertext' | 'previousSecretCiphertext' | 'previousSecretExpiresAt'
>;

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

/**
 * The endpoint as clients see it. The breaker state is the one in force now: an open breaker
 * past its cooldown reads half_open (the next delivery is its probe), whatever the row says.
 */
export function toEndpointDto(e: WebhookEndpoint, breakerCooldownMs: number, now: number = Date.now()): EndpointDto {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    format: e.format,
    rate_limit_per_second: e.rateLimitPerSecond,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    disabled_at: iso(e.disabledAt),
    breaker: {
      state: effectiveBreakerState(e, breakerCooldownMs, now),
      consecutive_failures: e.breakerFailures,
      opened_at: iso(e.breakerOpenedAt),
    },
    failing_since: iso(e.failingSince),
    last_success_at: iso(e.lastSuccessAt),
    previous_secret_expires_at: iso(e.previousSecretExpiresAt),
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

/** Breaker and failure clock as for a new endpoint (re-enabled or pointed at a new URL). */
const FRESH_HEALTH: Partial<WebhookEndpoint> = {
  breakerState: 'closed',
  breakerFailures: 0,
  breakerOpenedAt: null,
  breakerProbeInFlight: false,
  failingSince: null,
};

const AUDITED = ['url', 'description', 'event_types', 'format', 'rate_limit_per_second', 'enabled'] as const;

@Injectable()
export class EndpointsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly secrets: WebhookSecrets,
    private readonly events: EventPublisher,
  ) {}

  async create(principal: Principal, dto: CreateEndpointDto, requestId?: string): Promise<CreatedEndpointDto> {
    this.validateUrl(dto.url);
    this.validateEventTypes(dto.event_types);
    const orgId = this.tenant.orgId;
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const repo = this.tenant.repo(WebhookEndpoint);
    await repo.insert({
      id,
      orgId,
      url: dto.url,
      description: dto.description ?? null,
      eventTypes: dto.event_types,
      format: dto.format ?? 'standard',
      rateLimitPerSecond: dto.rate_limit_per_second ?? null,
      secretCiphertext: this.secrets.seal(orgId, id, secret),
    });
    const shown = this.toDto(await repo.findOneByOrFail({ id }));
    await this.record(principal, 'webhooks.endpoint.created', id, requestId, {
      url: shown.url,
      event_types: shown.event_types,
      format: shown.format,
      rate_limit_per_second: shown.rate_limit_per_second,
    });
    return { ...shown, secret };
  }

  async list(limit = 50, cursor?: string): Promise<EndpointPageDto> {
    const qb = this.tenant
      .repo(WebhookEndpoint)
      .createQueryBuilder('e')
      .where('e.org_id = :org', { org: this.tenant.orgId })
      .andWhere('e.deleted_at IS NULL');
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor });
    return {
      items: page.map((e) => this.toDto(e)),
      next_cursor,
    };
  }

  async get(id: string): Promise<EndpointDto> {
    return this.toDto(await this.find(id));
  }

  async update(principal: Principal, id: string, dto: UpdateEndpointDto, requestId?: string): Promise<EndpointDto> {
    const before = await this.find(id, true);
    let next: Partial<WebhookEndpoint> = {};
    if (dto.url !== undefined && dto.url !== before.url) {
      this.validateUrl(dto.url);
      next = { ...FRESH_HEALTH, url: dto.url };
    }
    if (dto.event_types !== undefined) {
      this.validateEventTypes(dto.event_types);
      next.eventTypes = dto.event_types;
    }
    if (dto.description !== undefined) next.description = dto.description;
    if (dto.format !== undefined) next.format = dto.format;
    if (dto.rate_limit_per_second !== undefined) next.rateLimitPerSecond = dto.rate_limit_per_second;
    if (dto.enabled === true && !before.enabled) {
      next = { ...next, ...FRESH_HEALTH, enabled: true, disabledReason: null, disabledAt: null };
    } else if (dto.enabled === false && before.enabled) {
      next = { ...next, enabled: false, disabledReason: 'manual', disabledAt: new Date() };
    }
    if (!Object.keys(next).length) return this.toDto(before);

    const repo = this.tenant.repo(WebhookEndpoint);
    await repo.update({ id }, next);
    const after = this.toDto(await repo.findOneByOrFail({ id }));
    const old = this.toDto(before);
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of AUDITED) {
      if (JSON.stringify(old[field]) !== JSON.stringify(after[field])) {
        changes[field] = { from: old[field], to: after[field] };
      }
    }
    await this.record(principal, 'webhooks.endpoint.updated', id, requestId, { changes });
    return after;
  }

  /** Soft delete: the endpoint 404s from now on and gets no further deliveries. */
  async remove(principal: Principal, id: string, requestId?: string): Promise<void> {
    const endpoint = await this.find(id, true);
    await this.tenant.repo(WebhookEndpoint).update({ id }, { deletedAt: new Date(), enabled: false });
    await this.record(principal, 'webhooks.endpoint.deleted', id, requestId, { url: endpoint.url });
  }

  /** New secret now; the old one keeps signing (second signature) for SECRET_OVERLAP_MS. */
  async rotateSecret(principal: Principal, id: string, requestId?: string): Promise<EndpointSecretDto> {
    const endpoint = await this.find(id, true);
    const secret = generateWebhookSecret();
    const expiresAt = new Date(Date.now() + SECRET_OVERLAP_MS);
    await this.tenant.repo(WebhookEndpoint).update(
      { id },
      {
        secretCiphertext: this.secrets.seal(endpoint.orgId, id, secret),
        previousSecretCiphertext: endpoint.secretCiphertext,
        previousSecretExpiresAt: expiresAt,
      },
    );
    await this.record(principal, 'webhooks.endpoint.secret_rotated', id, requestId, {
      previous_secret_expires_at: expiresAt.toISOString(),
    });
    return { secret, previous_secret_expires_at: expiresAt.toISOString() };
  }

  /**
   * Publishes `webhook.test` with data `{endpoint_id, target_endpoint_id, message}`.
   * `target_endpoint_id` means: deliver to that endpoint only, whatever its event_types.
   */
  async sendTest(id: string, message?: string): Promise<TestEventAcceptedDto> {
    await this.find(id);
    const eventId = await this.events.publish('webhook.test', {
      endpoint_id: id,
      target_endpoint_id: id,
      message: message ?? DEFAULT_TEST_MESSAGE,
    });
    return { event_id: eventId };
  }

  /**
   * The secrets that sign a delivery to `endpoint`: the current one first, then the previous
   * one while its overlap has not expired. Decrypts with the endpoint's own org and id.
   */
  private toDto(e: WebhookEndpoint): EndpointDto {
    return toEndpointDto(e, this.config.get('WEBHOOK_BREAKER_COOLDOWN_SECONDS') * 1000);
  }

  signingSecrets(endpoint: SealedSecrets, now: Date = new Date()): string[] {
    const current = this.secrets.open(endpoint.orgId, endpoint.id, endpoint.secretCiphertext);
    const previous =
      endpoint.previousSecretCiphertext &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt.getTime() > now.getTime()
        ? this.secrets.open(endpoint.orgId, endpoint.id, endpoint.previousSecretCiphertext)
        : undefined;
    return previous ? [current, previous] : [current];
  }

  private validateUrl(url: string): void {
    const check = checkTargetUrl(url, {
      allowHttp: this.config.get('WEBHOOKS_ALLOW_HTTP'),
      allowLoopback: this.config.get('WEBHOOKS_ALLOW_PRIVATE_TARGETS'),
    });
    if (!check.ok) {
      throw new ProblemException(400, `url ${check.reason}.`, { errors: [{ field: 'url', message: check.reason }] });
    }
  }

  private validateEventTypes(types: string[]): void {
    if (types.includes(ALL_EVENT_TYPES) && types.length > 1) {
      const message = 'must be exactly ["*"] or a list of event types, not both';
      throw new ProblemException(400, `event_types ${message}.`, { errors: [{ field: 'event_types', message }] });
    }
  }

  /** Unknown, deleted and other orgs' endpoints (hidden by RLS) are the same 404. */
  private async find(id: string, forUpdate = false): Promise<WebhookEndpoint> {
    const endpoint = await this.tenant.repo(WebhookEndpoint).findOne({
      where: { id, deletedAt: IsNull() },
      ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!endpoint) throw new NotFoundException('No such webhook endpoint.');
    return endpoint;
  }

  private async record(
    principal: Principal,
    action: string,
    id: string,
    requestId: string | undefined,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({
      ...auditActor(principal),
      action,
      targetType: 'webhook_endpoint',
      targetId: id,
      data,
      requestId,
    });
  }
}
