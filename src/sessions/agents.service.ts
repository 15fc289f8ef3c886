import { Injectable, NotFoundException } from '@nestjs/common';
import { assertSupervising } from './agent-binding';
import { QueryFailedError } from 'typeorm';
import { AuditService } from '../../libs/audit';
import { auditActor, Principal } from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { newestFirstPage, PageQueryDto, ProblemException } from '../../libs/http';
import { AgentDto, AgentPageDto, CreateAgentDto } from './dto/agent.dto';
import { CallAgent } from './entities/call-agent.entity';

export function toAgentDto(a: CallAgent): AgentDto {
  return {
    id: a.id,
    name: a.name,
    external_ref: a.externalRef,
    max_concurrent_calls: a.maxConcurrentCalls,
    wrap_up_seconds: a.wrapUpSeconds,
    created_at: a.createdAt.toISOString(),
  };
}

/** Cursors carry milliseconds; timestamptz holds microseconds (see DriversService). */

/** Call-center agents (people). Their sessions and presence are SessionsService's. */
@Injectable()
export class AgentsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, dto: CreateAgentDto, requestId?: string): Promise<AgentDto> {
    assertSupervising(principal);
    const repo = this.tenant.repo(CallAgent);
    const values = {
      orgId: this.tenant.orgId,
      name: dto.name,
      externalRef: dto.external_ref ?? null,
      maxConcurrentCalls: dto.max_concurrent_calls ?? 1,
      wrapUpSeconds: dto.wrap_up_seconds ?? 0,
    };
    let id: string;
    try {
      id = ((await repo.insert(values)).identifiers[0] as { id: string }).id;
    } catch (err) {
      const cause = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : {};
      if (cause.code === '23505' && cause.constraint === 'call_agents_org_external_ref') {
        throw new ProblemException(409, `Another agent already has external_ref "${values.externalRef}".`, {
          errors: [{ field: 'external_ref', message: 'is already used by another agent of this org' }],
        });
      }
      throw err;
    }
    const agent = await repo.findOneByOrFail({ id });
    await this.audit.record({
      action: 'sessions.agent.created',
      ...auditActor(principal),
      targetType: 'call_agent',
      targetId: agent.id,
      data: {
        name: agent.name,
        external_ref: agent.externalRef,
        max_concurrent_calls: agent.maxConcurrentCalls,
        wrap_up_seconds: agent.wrapUpSeconds,
      },
      requestId,
    });
    return toAgentDto(agent);
  }

  /** Unknown ids and other orgs' agents (hidden by row-level security) are the same 404. */
  async get(id: string): Promise<AgentDto> {
    const agent = await this.tenant.repo(CallAgent).findOneBy({ id });
    if (!agent) throw new NotFoundException('No such agent.');
    return toAgentDto(agent);
  }

  async list(query: PageQueryDto): Promise<AgentPageDto> {
    const limit = query.limit ?? 50;
    const qb = this.tenant.repo(CallAgent).createQueryBuilder('a').where('a.org_id = :org', { org: this.tenant.orgId });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor: query.cursor });
    return {
      items: page.map(toAgentDto),
      next_cursor,
    };
  }
}
